// Each local tracker person's token is theirs alone: a shared one would sign one person's comments
// with another's name. Literal tokens are refused by the configuration check, tokens from the
// environment when intake starts.
import { describe, expect, it } from 'vitest';
import { resolveTrackerPeople } from '../../intake/token';
import { configSchema } from '../../lib/config';

const TRACKER = 'tracker-token-0123456789';
const people = (...entries: [string, string | { env: string }][]) => ({ tracker: { local: { token: TRACKER, people: entries.map(([name, token]) => ({ name, token })) } } });

describe("local tracker people's tokens", () => {
  it('refuses a literal token two people share, or one that is the tracker token', () => {
    const shared = configSchema.safeParse(people(['alice', 'alice-token-0123456789'], ['bob', 'alice-token-0123456789']));
    expect(shared.error?.issues.map(({ path, message }) => `${path.join('.')}: ${message}`)).toEqual(["tracker.local.people.1.token: bob's token is alice's too: give each person a token of their own"]);
    const tracker = configSchema.safeParse(people(['alice', TRACKER]));
    expect(tracker.error?.issues.map(({ message }) => message)).toEqual(["alice's token is the tracker token: give each person a token of their own"]);
    expect(configSchema.safeParse(people(['alice', 'alice-token-0123456789'], ['bob', 'bob-token-0123456789'])).success).toBe(true);
  });

  it('refuses, when intake starts, tokens from the environment that clash', () => {
    const config = configSchema.parse(people(['alice', { env: 'VIGIL_TEST_ALICE' }], ['bob', { env: 'VIGIL_TEST_BOB' }]));
    process.env.VIGIL_TEST_ALICE = 'same-token-0123456789';
    process.env.VIGIL_TEST_BOB = 'same-token-0123456789';
    try {
      expect(() => resolveTrackerPeople(config, TRACKER)).toThrow("tracker.local.people.1.token: bob's token is alice's too");
      process.env.VIGIL_TEST_BOB = TRACKER;
      expect(() => resolveTrackerPeople(config, TRACKER)).toThrow("tracker.local.people.1.token: bob's token is the tracker token");
      process.env.VIGIL_TEST_BOB = 'bob-token-0123456789';
      expect(resolveTrackerPeople(config, TRACKER)).toEqual([
        { name: 'alice', token: 'same-token-0123456789' },
        { name: 'bob', token: 'bob-token-0123456789' },
      ]);
    } finally {
      delete process.env.VIGIL_TEST_ALICE;
      delete process.env.VIGIL_TEST_BOB;
    }
  });
});
