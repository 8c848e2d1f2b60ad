// memcached: does it answer `stats` to a stranger (the ASCII protocol has no authentication unless
// started with an auth file), and which version. An open memcached leaks its cache and amplifies
// UDP floods.
import { Connection, type Framer } from '../connection';
import type { ServiceCheck } from '../types';
import { accessStatus, probeFinding } from './finding';

const MEMCACHED_PORTS = new Set([11211]);

/** A `stats` answer: `STAT` lines up to `END`; anything else is one line (a refusal, an error). */
const statsReply: Framer = (data) => {
  const text = data.toString('latin1');
  const terminator = text.startsWith('STAT ') ? '\r\nEND\r\n' : '\r\n';
  const at = text.indexOf(terminator);
  return at < 0 ? undefined : at + terminator.length;
};

export const memcachedCheck: ServiceCheck = {
  name: 'memcached',
  // memcached never speaks first: a port that sent a banner is something else.
  matches: ({ port, banner }) => banner === undefined && MEMCACHED_PORTS.has(port),
  async run(open, context) {
    const connection = await Connection.open(open.address, open.port, context);
    try {
      connection.send('stats\r\n');
      const reply = (await connection.receive(statsReply)).toString('utf8');
      if (reply.startsWith('CLIENT_ERROR')) {
        return [probeFinding('memcached', open, accessStatus(false), { unauthenticated: false, version: null }, { reply: reply.trim().slice(0, 200) })];
      }
      if (!reply.startsWith('STAT ')) return [];
      const stat = (name: string) => new RegExp(`^STAT ${name} (.+)\\r$`, 'm').exec(reply)?.[1] ?? null;
      return [probeFinding('memcached', open, accessStatus(true), { unauthenticated: true, version: stat('version') }, { items: Number(stat('curr_items') ?? 0) })];
    } finally {
      connection.close();
    }
  },
};
