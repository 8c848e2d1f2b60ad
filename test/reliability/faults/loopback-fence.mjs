// Loaded into every Vigil process a reliability test starts (NODE_OPTIONS=--import): a connection or
// name lookup to anything but loopback is refused before a packet leaves, and said on stderr as
// `vigil-fence: refused …`, which the tests look for. The configuration already fences probes to
// 127.0.0.0/8; this also covers every client library (cloud SDKs, auth libraries, fetch).
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import process from 'node:process';

const isLoopback = (host) =>
  host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === '[::1]' || /^::ffff:127\./i.test(host);

const refuse = (what) => {
  process.stderr.write(`vigil-fence: refused ${what}\n`);
  return Object.assign(new Error(`${what}: refused by the reliability suite's loopback fence`), { code: 'EACCES' });
};

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function fencedConnect(...args) {
  const [first, second] = args;
  const options = Array.isArray(first) ? first[0] : first;
  let host;
  if (typeof options === 'object' && options !== null) {
    if (options.path) return connect.apply(this, args);
    host = String(options.host ?? 'localhost');
  } else if (typeof options === 'number' || /^\d+$/.test(String(options))) {
    host = typeof second === 'string' ? second : 'localhost';
  } else {
    return connect.apply(this, args); // A Unix socket path.
  }
  if (isLoopback(host)) return connect.apply(this, args);
  const error = refuse(`a connection to ${host}`);
  process.nextTick(() => this.destroy(error));
  return this;
};

const lookup = dns.lookup;
dns.lookup = function fencedLookup(hostname, ...rest) {
  if (isLoopback(String(hostname)) || net.isIP(String(hostname))) return lookup.call(this, hostname, ...rest);
  const callback = rest.at(-1);
  const error = refuse(`a lookup of ${hostname}`);
  process.nextTick(() => callback(error));
  return {};
};
const lookupPromise = dns.promises.lookup;
dns.promises.lookup = async function fencedLookupPromise(hostname, ...rest) {
  if (isLoopback(String(hostname)) || net.isIP(String(hostname))) return lookupPromise.call(this, hostname, ...rest);
  throw refuse(`a lookup of ${hostname}`);
};

// Modules importing `{ lookup }` by name see the fenced functions too.
syncBuiltinESMExports();
