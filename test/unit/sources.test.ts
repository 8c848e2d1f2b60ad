import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ArchiveRef } from '../../lib/alert';
import { normalizePayload } from '../../intake/normalize';
import { createSourceAdapters } from '../../intake/sources';
import { genericSource } from '../../intake/sources/generic';
import { UnrecognizedPayloadError } from '../../intake/sources/types';
import { investigationWorkflowId } from '../../lib/workflow-id';

const archive: ArchiveRef = { id: `2026/11/28/generic/${'a'.repeat(64)}`, sha256: 'a'.repeat(64), receivedAt: '2026-11-28T10:00:00.000Z' };
const adapters = createSourceAdapters();
const demoAlert = async (name: string) =>
  JSON.parse(await readFile(path.join(import.meta.dirname, '../../demo/alerts', name), 'utf8')) as unknown;

describe('generic source', () => {
  it('normalizes the documented schema', async () => {
    const [alert] = genericSource.parse(await demoAlert('01-ssh-open-to-internet.json'));
    expect(alert).toMatchObject({
      kind: 'exposure',
      fingerprint: 'demo/security-group/sg-0demo22/ssh',
      severity: 'high',
      cloud: { provider: 'aws', account: '111122223333', region: 'eu-west-1' },
      network: { ips: ['127.0.0.1'], cidrs: ['0.0.0.0/0'], ports: [{ from: 22, to: 22 }], protocol: 'tcp' },
      actors: { ips: [], domains: [], principals: [], userAgents: [] },
    });
  });

  it('infers the kind and fills empty lists', () => {
    const parse = (extra: object) => genericSource.parse({ title: 't', severity: 'low', ...extra })[0]!;
    expect(parse({ network: { ports: [443] } }).kind).toBe('exposure');
    expect(parse({ network: { ports: ['8000-8100'] } }).network.ports).toEqual([{ from: 8000, to: 8100 }]);
    expect(() => parse({ network: { ports: ['8100-8000'] } })).toThrow(/network\.ports/);
    expect(parse({ actors: { ips: ['2001:db8::1'] } }).kind).toBe('actor');
    expect(parse({}).kind).toBe('resource');
    expect(parse({}).network).toEqual({ ips: [], cidrs: [], ports: [] });
  });

  it('derives a stable fingerprint from the content when there is no id', () => {
    const alert = { title: 'Port 22 open', severity: 'high', resources: [{ type: 'host', id: 'web-1' }] };
    const first = genericSource.parse(alert)[0]!.fingerprint;
    expect(first).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(genericSource.parse({ ...alert, occurredAt: '2026-01-01T00:00:00Z' })[0]!.fingerprint).toBe(first);
    expect(genericSource.parse({ ...alert, title: 'Port 23 open' })[0]!.fingerprint).not.toBe(first);
  });

  it('rejects a misspelt field or a bad value, saying which', () => {
    expect(() => genericSource.parse({ title: 't', severity: 'high', sevrity: 'x' })).toThrow(/sevrity/);
    expect(() => genericSource.parse({ title: 't', severity: 'urgent' })).toThrow(UnrecognizedPayloadError);
    expect(() => genericSource.parse({ title: 't', severity: 'low', network: { ips: ['1.2.3'] } })).toThrow(/network\.ips/);
  });
});

describe('normalization', () => {
  it('detects the source of an `auto` payload', async () => {
    const [alert] = normalizePayload(adapters, 'auto', await demoAlert('02-console-login-from-tor.json'), archive);
    expect(alert).toMatchObject({ source: 'generic', kind: 'actor', archive });
  });

  it('turns what no adapter understands into an unparsed alert', async () => {
    const [auto] = normalizePayload(adapters, 'auto', await demoAlert('99-unknown-tool.json'), archive);
    expect(auto).toMatchObject({ source: 'auto', kind: 'unparsed', fingerprint: `unparsed:${archive.sha256}` });
    expect(auto!.description).toMatch(/no known source recognises this payload/);

    const [named] = normalizePayload(adapters, 'generic', [1, 2, 3], archive);
    expect(named).toMatchObject({ source: 'generic', kind: 'unparsed' });
    expect(named!.description).toMatch(/^not a generic alert/);
  });

  it('counts no event as unmatched when the body becomes an unparsed alert after all', () => {
    const entry = (methodName: string, request?: object) => ({
      protoPayload: { '@type': 'type.googleapis.com/google.cloud.audit.AuditLog', methodName, resourceName: 'projects/p', ...(request ? { request } : {}) },
    });
    // A read no rule matches, then a firewall insert naming no firewall rule: the adapter gives up on the body.
    const tally = { unmatched: 0 };
    const body = [entry('storage.objects.get'), entry('v1.compute.firewalls.insert', { sourceRanges: ['0.0.0.0/0'], alloweds: [{ IPProtocol: 'tcp', ports: ['22'] }] })];
    const [alert] = normalizePayload(adapters, 'gcp-audit', body, archive, tally);
    expect(alert).toMatchObject({ kind: 'unparsed' });
    expect(tally.unmatched).toBe(0);
  });
});

describe('workflow ids', () => {
  it('are alert/<source>/<fingerprint>, hashed when unusable', () => {
    expect(investigationWorkflowId('generic', 'abc/123')).toBe('alert/generic/abc/123');
    expect(investigationWorkflowId('generic', 'has space')).toMatch(/^alert\/generic\/sha256:[0-9a-f]{64}$/);
    expect(investigationWorkflowId('generic', 'x'.repeat(201))).toMatch(/^alert\/generic\/sha256:/);
  });
});
