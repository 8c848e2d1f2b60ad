// PostgreSQL: offers TLS (SSLRequest), then a StartupMessage for user `vigil`: AuthenticationOk
// means it lets strangers in; a password/SASL request means it does not. Nothing more is sent.
import { Connection, type Framer } from '../connection';
import type { ServiceCheck } from '../types';
import { accessStatus, probeFinding } from './finding';

const POSTGRES_PORTS = new Set([5432, 5433]);
const SSL_REQUEST_CODE = 80877103;
const PROTOCOL_3_0 = 196608;

/** Names of the authentication requests (the `R` message's code). */
const authMethods: Record<number, string> = { 0: 'none', 2: 'kerberos', 3: 'password', 5: 'md5', 7: 'gss', 9: 'sspi', 10: 'sasl' };

/** One backend message: type byte, then a length that counts itself. */
const backendMessage: Framer = (data) => (data.length >= 5 && data.length >= 1 + data.readUInt32BE(1) ? 1 + data.readUInt32BE(1) : undefined);

function startupMessage(user: string): Buffer {
  const parameters = Buffer.from(`user\0${user}\0application_name\0vigil\0\0`, 'utf8');
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + parameters.length, 0);
  header.writeUInt32BE(PROTOCOL_3_0, 4);
  return Buffer.concat([header, parameters]);
}

/** The fields of an ErrorResponse (`S` severity, `C` SQLSTATE, `M` message). */
function errorFields(body: Buffer): Record<string, string> {
  const fields: Record<string, string> = {};
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const end = body.indexOf(0, at + 1);
    fields[String.fromCharCode(body[at]!)] = body.toString('utf8', at + 1, end < 0 ? body.length : end);
    at = end < 0 ? body.length : end + 1;
  }
  return fields;
}

export const postgresCheck: ServiceCheck = {
  name: 'postgres',
  matches: ({ port, banner }) => banner === undefined && POSTGRES_PORTS.has(port),
  async run(open, context) {
    const connection = await Connection.open(open.address, open.port, context);
    try {
      const sslRequest = Buffer.alloc(8);
      sslRequest.writeUInt32BE(8, 0);
      sslRequest.writeUInt32BE(SSL_REQUEST_CODE, 4);
      connection.send(sslRequest);
      const answer = (await connection.receive(() => 1)).toString('latin1');
      if (answer !== 'S' && answer !== 'N') return [];
      const tls = answer === 'S' ? (await connection.startTls()).getProtocol() : null;
      connection.send(startupMessage('vigil'));
      const message = await connection.receive(backendMessage);
      const type = String.fromCharCode(message[0]!);
      const base = { tls: tls ?? false };
      if (type === 'R') {
        const code = message.readUInt32BE(5);
        const method = authMethods[code] ?? `code ${code}`;
        const unauthenticated = code === 0;
        let version: string | null = null;
        if (unauthenticated) {
          // After AuthenticationOk the server reports its parameters, server_version among them.
          for (let i = 0; i < 32 && version === null; i++) {
            const next = await connection.receive(backendMessage);
            if (next[0] === 0x53 /* S */) {
              const [name, value] = next.toString('utf8', 5).split('\0');
              if (name === 'server_version') version = value ?? null;
            } else if (next[0] === 0x5a /* Z: ready */) break;
          }
        }
        return [probeFinding('postgres', open, accessStatus(unauthenticated), { unauthenticated, authMethod: method, version, ...base })];
      }
      if (type === 'E') {
        const error = errorFields(message.subarray(5));
        // Under `trust`, the role is looked up without asking for a password: a missing role then
        // proves that no password was going to be asked.
        const trusted = error.C === '28000' && /role .* does not exist/.test(error.M ?? '');
        return [probeFinding('postgres', open, accessStatus(trusted), { unauthenticated: trusted, authMethod: trusted ? 'trust' : null, version: null, ...base }, { error: `${error.C ?? ''} ${error.M ?? ''}`.trim() })];
      }
      return [];
    } finally {
      connection.close();
    }
  },
};
