// Vigil's own memory of an actor, on a real Temporal server: a second investigation naming the same
// address and principal as a first one shows the first on its issue, with the first's issue and
// outcome, found through the `VigilActors` search attribute; private and reserved addresses share
// one line and are not looked up anywhere.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActorHistory, HISTORY_PER_ACTOR } from '../../activities/intel/actor-history';
import { feedDefinitions } from '../../activities/intel/feeds';
import { INVESTIGATE_ALERT } from '../../lib/investigation';
import { MAX_ACTORS } from '../../lib/investigation-state';
import { VigilActors, VigilIssue, VigilIssueState } from '../../lib/search-attributes';
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

describe('actor history per actor', () => {
  it('lists each actor on its own: a busy one neither crowds out another nor costs a call per investigation', async () => {
    // Investigations no worker runs (their task queue is polled by none): listed with their search
    // attributes, and unable to answer a query, so an issue shown comes from the attributes.
    const taskQueue = `unpolled-${randomUUID()}`;
    const busy = `principal:arn:aws:iam::111111111111:role/busy-${randomUUID()}`;
    const attacker = `ip:2001:db8::${randomUUID().slice(0, 4)}:${randomUUID().slice(0, 4)}`;
    const started: string[] = [];
    const start = async (actors: string[], issue: number, state: 'open' | 'closed') => {
      const workflowId = `history-${randomUUID()}`;
      await vigil.client.workflow.start(INVESTIGATE_ALERT, {
        taskQueue,
        workflowId,
        args: [],
        typedSearchAttributes: [
          { key: VigilActors, value: actors },
          { key: VigilIssue, value: String(issue) },
          { key: VigilIssueState, value: state },
        ],
      });
      started.push(workflowId);
    };
    try {
      // The attacker's investigation between two hundred busy ones: past the first hundred listed, whichever way they are ordered.
      for (let i = 0; i < 101; i++) await start([busy], 100 + i, 'open');
      await start([attacker], 41, 'closed');
      for (let i = 0; i < 101; i++) await start([busy], 300 + i, 'open');
      // Visibility is eventually consistent: every one of them listed before the history is asked.
      const listed = `VigilActors IN ("${busy}", "${attacker}")`;
      await eventually(async () => ((await vigil.client.workflow.count(listed)).count === started.length ? true : undefined), 30_000);
      const found = await createActorHistory(vigil.client).earlier([busy, attacker]);
      expect(found.get(attacker)).toEqual({ investigations: [expect.objectContaining({ workflowId: started[101], status: 'running', issue: { number: 41, state: 'closed' } })], more: false });
      const ofBusy = found.get(busy)!;
      expect(ofBusy.more).toBe(true);
      expect(ofBusy.investigations.map(({ issue }) => issue?.state)).toEqual(Array.from({ length: HISTORY_PER_ACTOR }, () => 'open'));
    } finally {
      await Promise.all(started.map((workflowId) => vigil.client.workflow.getHandle(workflowId).terminate('test over')));
    }
  }, 180_000);
});

describe('an alert naming more actors than one check takes', () => {
  it('checks the principal whatever the number of addresses, and counts the addresses left for later', async () => {
    const ips = Array.from({ length: 30 }, (_, i) => `198.51.100.${i + 100}`);
    const principal = 'arn:aws:iam::111111111111:user/overflow';
    expect((await vigil.post('generic', { id: 'crowd', title: 'Crowded sighting', severity: 'medium', kind: 'actor', actors: { ips, principals: [principal] } })).status).toBe(202);
    const { body } = await actorsComment('Crowded sighting');
    expect(body).toContain(`- \`${principal}\`: not looked up:`);
    const left = ips.length + 1 - MAX_ACTORS;
    expect(body).toContain(`- ${left} more actors not checked: at most ${MAX_ACTORS} are checked at a time; a later alert naming them checks them`);
    expect(body).not.toContain(ips.at(-1));
    // Only what was checked is remembered as checked: the next alert naming the rest checks them.
    const progress = await eventually(async () => (await queryProgress(vigil.client, 'alert/generic/crowd'))?.checkedActors);
    expect(progress).toContain(principal);
    expect(progress).not.toContain(ips.at(-1));
    expect(progress).toHaveLength(MAX_ACTORS);
  }, 120_000);
});
