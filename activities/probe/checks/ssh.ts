// SSH: the server's version, the algorithms it offers (its KEXINIT, sent in clear before key
// exchange, read off the wire beside ssh2), its host key fingerprint, and, when
// `probe.sshAuthMethods` allows the `none` attempt (it shows in the server's log), which
// authentication methods it accepts.
import { createHash } from 'node:crypto';
import type net from 'node:net';
import type { AuthenticationType, Client } from 'ssh2';
import type { FieldValue } from '../../../lib/finding';
import { openSocket } from '../connection';
import type { CheckContext, OpenPort, ServiceCheck } from '../types';
import { probeFinding } from './finding';

const SSH_PORTS = new Set([22, 2222, 22222]);
const SSH_MSG_KEXINIT = 20;
/** Lines a server may send before its identification (RFC 4253 §4.2) are not read past this. */
const MAX_PREAMBLE = 8192;

interface Kexinit {
  kex: string[];
  hostKey: string[];
  ciphers: string[];
  macs: string[];
  compression: string[];
}

/** The server's identification line and its KEXINIT, parsed from what it sent, or undefined so far. */
function parseServerHello(data: Buffer): { ident?: string; kexinit?: Kexinit } {
  let at = 0;
  let ident: string | undefined;
  while (ident === undefined) {
    const end = data.indexOf(0x0a, at);
    if (end < 0) return {};
    const line = data.toString('latin1', at, end).replace(/\r$/, '');
    at = end + 1;
    if (line.startsWith('SSH-')) ident = line;
  }
  if (data.length < at + 6) return { ident };
  const packetLength = data.readUInt32BE(at);
  const paddingLength = data.readUInt8(at + 4);
  if (data.length < at + 4 + packetLength) return { ident };
  const payload = data.subarray(at + 5, at + 4 + packetLength - paddingLength);
  if (payload[0] !== SSH_MSG_KEXINIT) return { ident };
  let offset = 1 + 16; // message number, cookie
  const nameList = () => {
    const length = payload.readUInt32BE(offset);
    const names = payload.toString('latin1', offset + 4, offset + 4 + length);
    offset += 4 + length;
    return names ? names.split(',') : [];
  };
  const [kex, hostKey, ciphers, , macs, , compression] = Array.from({ length: 7 }, nameList) as string[][];
  return { ident, kexinit: { kex: kex!, hostKey: hostKey!, ciphers: ciphers!, macs: macs!, compression: compression! } };
}

/** `SHA256:...` as `ssh-keygen -l` prints it, and the key's type from its wire blob. */
function hostKeyFacts(blob: Buffer): { type: string; fingerprint: string } {
  const type = blob.toString('latin1', 4, 4 + blob.readUInt32BE(0));
  return { type, fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}` };
}

interface Session {
  hello: Buffer;
  hostKey?: Buffer;
  /** Methods the server lists after the `none` attempt; `none` itself when it let us in. */
  methods?: string[];
  error?: string;
}

function converse(socket: net.Socket, { settings, signal }: CheckContext, SshClient: typeof Client): Promise<Session> {
  return new Promise((resolve) => {
    const session: Session = { hello: Buffer.alloc(0) };
    const client = new SshClient();
    const tap = (chunk: Buffer) => {
      session.hello = Buffer.concat([session.hello, chunk]);
      if (parseServerHello(session.hello).kexinit || session.hello.length > MAX_PREAMBLE) socket.off('data', tap);
    };
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (error) session.error = error;
      client.end();
      socket.destroy();
      resolve(session);
    };
    const onAbort = () => finish('cancelled');
    const timer = setTimeout(() => finish(`no answer within ${settings.serviceTimeoutMs} ms`), settings.serviceTimeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('data', tap);
    client.on('error', (err) => finish(err.message));
    client.on('close', () => finish('connection closed'));
    client.on('ready', () => {
      session.methods = ['none'];
      finish();
    });
    // Without the auth-method probe, the session ends once the keys are exchanged: no login is tried.
    if (!settings.sshAuthMethods) client.on('handshake', () => finish());
    client.connect({
      sock: socket,
      username: 'vigil',
      ident: 'Vigil',
      readyTimeout: settings.serviceTimeoutMs,
      hostVerifier: (key: Buffer) => {
        session.hostKey = key;
        return true;
      },
      authHandler: (methodsLeft, _partial, next) => {
        if (methodsLeft === null) return next({ type: 'none', username: 'vigil' });
        session.methods = methodsLeft;
        finish();
      },
    });
  });
}

export const sshCheck: ServiceCheck = {
  name: 'ssh',
  matches: ({ port, banner }) => (banner === undefined ? SSH_PORTS.has(port) : banner.startsWith('SSH-')),
  async run(open: OpenPort, context) {
    // ssh2 at the first SSH check rather than at start: its WebAssembly Poly1305 alone reserves 16 MiB.
    const { Client: SshClient } = await import('ssh2');
    const socket = await openSocket(open.address, open.port, context);
    const session = await converse(socket, context, SshClient);
    const { ident, kexinit } = parseServerHello(session.hello);
    if (!ident) return [];
    const key = session.hostKey ? hostKeyFacts(session.hostKey) : undefined;
    const methods = session.methods;
    const allows = (method: AuthenticationType) => (methods ? methods.includes(method) : null);
    const unauthenticated = allows('none');
    const fields: Record<string, FieldValue> = {
      software: ident.replace(/^SSH-[\d.]+-/, ''),
      hostKeyType: key?.type ?? null,
      hostKeyFingerprint: key?.fingerprint ?? null,
      password: allows('password'),
      keyboardInteractive: allows('keyboard-interactive'),
      unauthenticated,
    };
    const status = unauthenticated ? 'unauthenticated' : fields.password || fields.keyboardInteractive ? 'password-allowed' : methods ? 'keys-only' : 'answered';
    const detail = {
      identification: ident,
      ...(kexinit ? { algorithms: kexinit } : {}),
      ...(methods ? { authMethods: methods } : { authMethods: context.settings.sshAuthMethods ? 'not learned' : 'not probed (probe.sshAuthMethods is off)' }),
      ...(session.error ? { error: session.error } : {}),
    };
    return [probeFinding('ssh', open, status, fields, detail)];
  },
};
