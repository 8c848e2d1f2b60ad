// Redis: does it answer PING without AUTH, and which version (INFO server) it is.
import { Connection, type Framer } from '../connection';
import type { ServiceCheck } from '../types';
import { accessStatus, probeFinding } from './finding';

const REDIS_PORTS = new Set([6379, 6380]);

/** One RESP reply: a `+`/`-`/`:` line, or a `$` bulk string with its length prefix. */
const respReply: Framer = (data) => {
  const lineEnd = data.indexOf('\r\n');
  if (lineEnd < 0) return undefined;
  if (data[0] !== 0x24 /* $ */) return lineEnd + 2;
  const length = Number(data.toString('latin1', 1, lineEnd));
  if (length < 0) return lineEnd + 2;
  const total = lineEnd + 2 + length + 2;
  return data.length >= total ? total : undefined;
};

export const redisCheck: ServiceCheck = {
  name: 'redis',
  matches: ({ port, banner }) => (banner === undefined ? REDIS_PORTS.has(port) : /^[-+](ERR|PONG|NOAUTH|DENIED)/.test(banner)),
  async run(open, context) {
    const connection = await Connection.open(open.address, open.port, context);
    try {
      connection.send('*1\r\n$4\r\nPING\r\n');
      const pong = (await connection.receive(respReply)).toString('latin1').trim();
      if (!/^[+-]/.test(pong)) return [];
      if (!pong.startsWith('+')) {
        // NOAUTH (a password), DENIED (protected mode), or an ACL refusal: strangers get nothing.
        if (!/^-(NOAUTH|DENIED|WRONGPASS|NOPERM|ERR)/.test(pong)) return [];
        return [probeFinding('redis', open, accessStatus(false), { unauthenticated: false, version: null }, { reply: pong.slice(0, 200) })];
      }
      connection.send('*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n');
      const info = (await connection.receive(respReply)).toString('utf8');
      const version = /^redis_version:(.+)$/m.exec(info)?.[1]?.trim() ?? null;
      const mode = /^redis_mode:(.+)$/m.exec(info)?.[1]?.trim();
      return [probeFinding('redis', open, accessStatus(true), { unauthenticated: true, version }, { reply: pong, ...(mode ? { mode } : {}) })];
    } finally {
      connection.close();
    }
  },
};
