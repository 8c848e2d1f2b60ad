// The inventory registry: only configured providers are built, from settings their own schema
// checked, and a mistake in those settings names its key.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configuredInventory, createInventoryProviders } from '../../../activities/context';
import { ConfigError } from '../../../lib/config';

describe('inventory registry', () => {
  it('builds the configured providers only, with their settings and defaults', async () => {
    // `undefined` is how code that rebuilds a configuration turns a provider off.
    const providers = await createInventoryProviders({ static: { files: ['inventory.yaml'] }, aws: undefined });
    expect(providers.map((provider) => provider.name)).toEqual(['static']);
    expect(configuredInventory({ aws: { accounts: [{ id: '111122223333' }] } }).map(({ definition, settings }) => [definition.name, settings])).toEqual([
      ['aws', { accounts: [{ id: '111122223333', useOwnCredentials: false }], roleName: 'VigilReadOnly', regions: ['us-east-1'], maxAttempts: 8 }],
    ]);
  });

  it('refuses every mistake at once, each naming its key', () => {
    let error: unknown;
    try {
      configuredInventory({ static: { files: [], file: 'x.yaml' }, ec2: {} });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(/^inventory\.ec2: unknown inventory provider \(known: aws, gcp, static\b/),
      expect.stringMatching(/^inventory\.static\.files: .*>=1/),
      'inventory.static.file: unknown key (misspelt, or not a Vigil setting)',
    ]);
  });

  it('reads static files relative to the working folder', async () => {
    const [provider] = await createInventoryProviders({ static: { files: ['no-such-inventory.yaml'] } });
    const { problems } = await provider!.scan!('static');
    expect(problems).toEqual([expect.objectContaining({ scope: path.resolve('no-such-inventory.yaml') })]);
  });
});
