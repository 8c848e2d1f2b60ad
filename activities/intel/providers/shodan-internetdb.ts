// Shodan InternetDB: open ports, hostnames, tags and known CVEs of an IP, updated weekly.
// https://internetdb.shodan.io/docs
import type { SourceResult } from '../types';
import { HOUR_MS, type ProviderDefinition } from './definition';
import { asObject, getJson, segment, shortList, stringList, UnreadableAnswerError } from './http';

/** Tags that say the host itself is bad, or that it hides someone (Tor, VPN, proxy) or scans. */
const MALICIOUS_TAGS = new Set(['malware', 'c2', 'compromised']);
const SUSPICIOUS_TAGS = new Set(['tor', 'vpn', 'proxy', 'scanner']);

export const shodanInternetDb: ProviderDefinition = {
  name: 'shodan-internetdb',
  description: 'Shodan InternetDB: open ports, tags and known vulnerabilities',
  key: 'none',
  targets: ['ip'],
  defaultBaseUrl: 'https://internetdb.shodan.io',
  defaultRatePerMinute: 60,
  defaultDailyQuota: 5000,
  defaultTtlMs: 24 * HOUR_MS,
  cost: 'free, no key; non-commercial use only; no published daily limit (Vigil caps itself at 5,000)',

  async lookup(target, context): Promise<SourceResult> {
    const { status, body } = await getJson(context, `/${segment(target.value)}`, {}, { allowNotFound: true });
    const answer = asObject(body, 'an object');
    if (status === 404) {
      if (typeof answer.detail !== 'string') throw new UnreadableAnswerError('a 404 without InternetDB’s detail');
      return { source: 'shodan-internetdb', status: 'not-listed', evidence: 'no information in Shodan InternetDB', details: { detail: answer.detail } };
    }

    const ports = Array.isArray(answer.ports) ? answer.ports.filter((port): port is number => typeof port === 'number') : [];
    const tags = stringList(answer.tags);
    const vulns = stringList(answer.vulns);
    const hostnames = stringList(answer.hostnames);
    const details = { ports, hostnames, tags, vulns, cpes: stringList(answer.cpes) };
    const facts = [
      ports.length ? `open ports ${shortList(ports)}` : 'no open ports seen',
      vulns.length ? `${vulns.length} known vulnerabilit${vulns.length === 1 ? 'y' : 'ies'}` : undefined,
      hostnames.length ? `hostnames ${shortList(hostnames, 3)}` : undefined,
    ].filter(Boolean);

    const bad = tags.filter((tag) => MALICIOUS_TAGS.has(tag.toLowerCase()));
    if (bad.length) {
      return { source: 'shodan-internetdb', status: 'listed', verdict: 'malicious', evidence: `tagged ${bad.join(', ')}; ${facts.join('; ')}`, details };
    }
    const odd = tags.filter((tag) => SUSPICIOUS_TAGS.has(tag.toLowerCase()));
    if (odd.length) {
      return { source: 'shodan-internetdb', status: 'listed', verdict: 'suspicious', evidence: `tagged ${odd.join(', ')}; ${facts.join('; ')}`, details };
    }
    // Known to Shodan but with no threat tag: the facts are context, not a listing.
    return { source: 'shodan-internetdb', status: 'not-listed', evidence: `no threat tags; ${facts.join('; ')}`, details };
  },
};
