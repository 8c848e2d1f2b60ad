// Every service check, tried in this order on each open port whose port or banner it matches.
// Adding a check: one file beside this one and one line here. A silent port that no check claims
// gets the HTTP check: web servers on odd ports are the most common thing found there.
import type { OpenPort, ServiceCheck } from '../types';
import { dockerCheck } from './docker';
import { elasticsearchCheck } from './elasticsearch';
import { httpCheck } from './http';
import { kubernetesCheck } from './kubernetes';
import { memcachedCheck } from './memcached';
import { mongodbCheck } from './mongodb';
import { mysqlCheck } from './mysql';
import { postgresCheck } from './postgres';
import { rdpCheck } from './rdp';
import { redisCheck } from './redis';
import { sshCheck } from './ssh';

export const serviceChecks: readonly ServiceCheck[] = [
  httpCheck,
  sshCheck,
  redisCheck,
  mysqlCheck,
  postgresCheck,
  mongodbCheck,
  elasticsearchCheck,
  dockerCheck,
  kubernetesCheck,
  rdpCheck,
  memcachedCheck,
];

/** The checks for one open port: those that claim it, else HTTP when the port said nothing. */
export function checksFor(open: OpenPort, checks: readonly ServiceCheck[]): ServiceCheck[] {
  const claimed = checks.filter((check) => check.matches(open));
  return claimed.length > 0 || open.banner !== undefined ? claimed : checks.filter((check) => check === httpCheck);
}
