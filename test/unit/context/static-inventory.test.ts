import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStaticInventory } from '../../../activities/context/static';
import type { ContextQuery } from '../../../activities/context/types';

const inventoryYaml = `
resources:
  - id: web-1
    name: shop front
    account: "111122223333"
    addresses: [198.51.100.7, "2001:db8::7"]
    privateAddresses: [10.0.0.7]
    tags: { team: shop }
    refs: [sg-web]
    open:
      - { protocol: tcp, ports: 443, sources: ["0.0.0.0/0", "::/0"] }
      - { name: admin, protocol: tcp, ports: "8000-8100", sources: ["203.0.113.0/24"] }
      - { protocol: udp, ports: all, sources: ["0.0.0.0/0"] }
  - id: db-1
    account: "444455556666"
    addresses: [198.51.100.8]
    refs: [sg-web]
    open: [{ ports: 5432 }]
`;

async function inventoryFile(text: string): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'vigil-static-')), 'inventory.yaml');
  await writeFile(file, text);
  return file;
}

const query = (overrides: Partial<ContextQuery>): ContextQuery => ({ resources: [], addresses: [], ...overrides });

describe('static inventory', () => {
  it('finds resources by reference, reports the rules, and exposes only internet-wide rules per family', async () => {
    const provider = createStaticInventory({ files: [await inventoryFile(inventoryYaml)] });
    const context = await provider.collect(query({ account: '111122223333', resources: [{ type: 'aws:ec2:security-group', id: 'sg-web' }] }));
    expect(context.instances.map((instance) => instance.id)).toEqual(['web-1']);
    expect(context.instances[0]).toMatchObject({ provider: 'static', type: 'static:inventory:resource', name: 'shop front', publicAddresses: ['198.51.100.7', '2001:db8::7'], tags: { team: 'shop' } });
    expect(context.rules.map((rule) => rule.name)).toEqual(['tcp 443', 'admin', 'udp 0-65535']);
    expect(context.exposures).toEqual([
      { instance: 'web-1', address: '198.51.100.7', protocol: 'tcp', ports: { from: 443, to: 443 }, rule: 'web-1/tcp/443' },
      { instance: 'web-1', address: '2001:db8::7', protocol: 'tcp', ports: { from: 443, to: 443 }, rule: 'web-1/tcp/443' },
      { instance: 'web-1', address: '198.51.100.7', protocol: 'udp', ports: { from: 0, to: 65535 }, rule: 'web-1/udp/0-65535' },
    ]);
    expect(context.problems).toEqual([]);
  });

  it('matches by address, and never across accounts', async () => {
    const provider = createStaticInventory({ files: [await inventoryFile(inventoryYaml)] });
    expect((await provider.collect(query({ addresses: ['10.0.0.7'] }))).instances.map((i) => i.id)).toEqual(['web-1']);
    expect((await provider.collect(query({ resources: [{ type: 'x', id: 'sg-web' }] }))).instances.map((i) => i.id)).toEqual(['web-1', 'db-1']);
    expect((await provider.collect(query({ account: '999999999999', addresses: ['198.51.100.7'] }))).instances).toEqual([]);
    expect((await provider.collect(query({ addresses: ['198.51.100.99'] }))).instances).toEqual([]);
  });

  it('has one scope for the re-scan, holding every resource of every file', async () => {
    const provider = createStaticInventory({ files: [await inventoryFile(inventoryYaml)] });
    expect(provider.scopes!()).toEqual(['static']);
    const context = await provider.scan!('static');
    expect(context.instances.map((instance) => instance.id)).toEqual(['web-1', 'db-1']);
    expect(context.exposures.map((exposure) => exposure.rule)).toEqual(['web-1/tcp/443', 'web-1/tcp/443', 'web-1/udp/0-65535', 'db-1/tcp/5432']);
    expect((await provider.scan!('elsewhere')).problems).toEqual([{ provider: 'static', scope: 'elsewhere', reason: 'the static inventory has one scope, "static"' }]);
  });

  it('says which file and key are wrong instead of failing the investigation', async () => {
    const broken = await inventoryFile('resources:\n  - id: x\n    addresses: [not-an-ip]\n    open: [{ ports: "22-" }]\n');
    const missing = path.join(os.tmpdir(), 'vigil-no-such-inventory.yaml');
    const context = await createStaticInventory({ files: [broken, missing] }).collect(query({ addresses: ['198.51.100.7'] }));
    expect(context.problems).toHaveLength(2);
    expect(context.problems[0]).toMatchObject({ provider: 'static', scope: broken });
    expect(context.problems[0]!.reason).toContain('resources.0.addresses.0: expected an IP address');
    expect(context.problems[0]!.reason).toContain('resources.0.open.0.ports');
    expect(context.problems[1]!.reason).toMatch(/cannot read it: ENOENT/);
  });
});
