// MySQL / MariaDB: the greeting the server sends on connect (version, authentication plugin).
// No login is attempted, so whether it lets strangers in stays unknown (`unauthenticated: null`);
// a server that refuses this host outright says so in its greeting (`auth-required`).
import { Connection, type Framer } from '../connection';
import type { ServiceCheck } from '../types';
import { accessStatus, probeFinding } from './finding';

const MYSQL_PORTS = new Set([3306, 3307]);

/** One MySQL packet: a 3-byte little-endian length, a sequence byte, the payload. */
const mysqlPacket: Framer = (data) => (data.length >= 4 && data.length >= 4 + data.readUIntLE(0, 3) ? 4 + data.readUIntLE(0, 3) : undefined);

const nulString = (data: Buffer, at: number) => {
  const end = data.indexOf(0, at);
  return { text: data.toString('utf8', at, end < 0 ? data.length : end), next: end < 0 ? data.length : end + 1 };
};

interface MysqlGreeting {
  version: string;
  authPlugin: string | null;
}

/** The handshake v10 payload's version and authentication plugin. */
function parseGreeting(payload: Buffer): MysqlGreeting | undefined {
  if (payload[0] !== 10) return undefined;
  const { text: version, next } = nulString(payload, 1);
  // connection id (4), auth data part 1 (8), filler (1), capabilities (2), charset (1), status (2),
  // capabilities upper (2), auth data length (1), reserved (10)
  let at = next + 31;
  const authDataLength = payload[next + 20] ?? 0;
  at += Math.max(13, authDataLength - 8);
  const authPlugin = at < payload.length ? nulString(payload, at).text || null : null;
  return { version, authPlugin };
}

export const mysqlCheck: ServiceCheck = {
  name: 'mysql',
  matches: ({ port, banner }) => (banner === undefined ? MYSQL_PORTS.has(port) : /mysql_native_password|caching_sha2_password|MariaDB|is not allowed to connect to this M/.test(banner)),
  async run(open, context) {
    const connection = await Connection.open(open.address, open.port, context);
    try {
      const payload = (await connection.receive(mysqlPacket)).subarray(4);
      if (payload[0] === 0xff) {
        const message = payload.toString('utf8', 3);
        return [probeFinding('mysql', open, accessStatus(false), { unauthenticated: false, version: null, authPlugin: null }, { refused: message.slice(0, 300) })];
      }
      const greeting = parseGreeting(payload);
      if (!greeting) return [];
      return [
        probeFinding('mysql', open, accessStatus(null), { unauthenticated: null, version: greeting.version, authPlugin: greeting.authPlugin }, {
          note: 'authentication not attempted: whether it accepts strangers is unknown',
        }),
      ];
    } finally {
      connection.close();
    }
  },
};
