// MongoDB: `hello` (what the server is), then `listDatabases`, which only an authenticated client
// may run on a server with access control: `ok: 1` means strangers can read it.
import { decodeDocument, encodeDocument, type BsonValue } from '../bson';
import { Connection, type Framer } from '../connection';
import type { ServiceCheck } from '../types';
import { accessStatus, probeFinding } from './finding';

const MONGODB_PORTS = new Set([27017, 27018, 27019]);
const OP_MSG = 2013;

/** One wire message: its first int32 is its whole length. */
const wireMessage: Framer = (data) => (data.length >= 4 && data.length >= data.readInt32LE(0) ? data.readInt32LE(0) : undefined);

function opMsg(requestId: number, command: Record<string, number | string | boolean>): Buffer {
  const header = Buffer.alloc(16 + 4 + 1);
  const body = encodeDocument(command);
  header.writeInt32LE(header.length + body.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(OP_MSG, 12);
  header.writeUInt32LE(0, 16); // flags
  header.writeUInt8(0, 20); // section kind 0: the body document
  return Buffer.concat([header, body]);
}

async function command(connection: Connection, requestId: number, document: Record<string, number | string | boolean>) {
  connection.send(opMsg(requestId, document));
  const reply = await connection.receive(wireMessage);
  if (reply.readInt32LE(12) !== OP_MSG || reply[20] !== 0) throw new Error('not an OP_MSG reply');
  return decodeDocument(reply, 21);
}

const text = (value: BsonValue | undefined) => (typeof value === 'string' ? value : null);

export const mongodbCheck: ServiceCheck = {
  name: 'mongodb',
  matches: ({ port, banner }) => banner === undefined && MONGODB_PORTS.has(port),
  async run(open, context) {
    const connection = await Connection.open(open.address, open.port, context);
    try {
      // isMaster rather than hello: servers before 4.4.2 know only the former.
      const hello = await command(connection, 1, { isMaster: 1, $db: 'admin' });
      if (hello.ok !== 1) return [];
      const build = await command(connection, 2, { buildInfo: 1, $db: 'admin' });
      const databases = await command(connection, 3, { listDatabases: 1, nameOnly: true, $db: 'admin' });
      const unauthenticated = databases.ok === 1;
      const names = Array.isArray(databases.databases) ? databases.databases.map((db) => (db && typeof db === 'object' && !Array.isArray(db) ? db.name : null)) : [];
      return [
        probeFinding(
          'mongodb',
          open,
          accessStatus(unauthenticated),
          { unauthenticated, version: text(build.version), maxWireVersion: typeof hello.maxWireVersion === 'number' ? hello.maxWireVersion : null },
          unauthenticated ? { databases: names } : { refusal: text(databases.codeName) ?? text(databases.errmsg) },
        ),
      ];
    } finally {
      connection.close();
    }
  },
};
