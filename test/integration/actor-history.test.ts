// Vigil's own memory of an actor, on a real Temporal server: a second investigation naming the same
// address and principal as a first one shows the first on its issue, with the first's issue and
// outcome, found through the `VigilActors` search attribute; private and reserved addresses share
// one line and are not looked up anywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedDefinitions } from '../../activities/intel/feeds';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

let vigil: TestVigil;
// A name the visibility store cannot search for: said on the issue, and the rest still looked up.
const HOSTILE = 'mallory") OR WorkflowId != ("x';

beforeAll(async () => {
  // Every feed off: nothing is downloaded, and each address is checked against local copies only.
  vigil = await startTestVigil({ intel: { feeds: Object.fromEntries(feedDefinitions.map(({ name }) => [name, { enabled: false }])) } });
});
afterAll(async () => {
  await vigil.stop();
});

const actorsComment = (title: string) =>
  eventually(async () => {
    const issue = (await vigil.tracker.listIssues()).find((candidate) => candidate.title.includes(title));
    const body = issue?.comments.find((comment) => comment.body.startsWith('### Actors'))?.body;
    return issue && body ? { number: issue.number, body } : undefined;
  }, 60_000);

describe('actor history', () => {
  it('shows the earlier investigation naming the same address and principal, with its issue and outcome', async () => {
    const actors = { ips: ['198.51.100.77', '10.0.0.5', '192.168.1.2'], principals: ['arn:aws:iam::111111111111:user/mallory', HOSTILE] };
    expect((await vigil.post('generic', { id: 'first-sighting', title: 'First sighting', severity: 'medium', kind: 'actor', actors })).status).toBe(202);
    const first = await actorsComment('First sighting');
    expect(first.body).toContain('- `198.51.100.77`: unknown');
    expect(first.body.match(/No earlier investigation names it\./g)).toHaveLength(2);
    expect(first.body).toContain('Earlier investigations not looked up: the name holds characters a visibility query cannot take.');
    expect(first.body).toContain('- `10.0.0.5`, `192.168.1.2`: private or reserved, not checked');
    // The verdict is on the first investigation's search attributes before the second looks.
    await eventually(async () => (await queryProgress(vigil.client, 'alert/generic/first-sighting'))?.verdict);

    expect((await vigil.post('generic', { id: 'second "sighting"', title: 'Second sighting', severity: 'high', kind: 'actor', actors: { ips: ['198.51.100.77'], principals: ['arn:aws:iam::111111111111:user/mallory'] } })).status).toBe(202);
    const second = await actorsComment('Second sighting');
    const earlier = `  - #${first.number} (open) · \`generic\` \`actor\` · \`alert/generic/first-sighting\` · verdict \`unknown\` · started `;
    // Once under the address and once under the principal; never the second investigation itself.
    expect(second.body.split(earlier)).toHaveLength(3);
    expect(second.body).toMatch(/started \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC · `running`/);
    expect(second.body).not.toContain('sighting"');
    expect(second.body).not.toContain('10.0.0.5');
  }, 120_000);
});
