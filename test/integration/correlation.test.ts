// Correlation end to end on real Temporal: investigations about one machine (named differently by
// each source, resolved by the inventory) or one actor link to each other on their issues, both
// ways; an exposure of a resource that already has an open investigation, and a re-scan of it,
// re-check that investigation instead of opening another issue; unrelated alerts stay apart; a
// redelivery links nothing twice. Then what it withstands: lists longer than Temporal takes for a
// value, a silenced investigation, a related one that cannot be told, a redelivery after its own
// investigation ended, an actor too common to tell, a merged alert's resolution, a carried run
// without its attributes, a routing lookup that fails. The machines are in a static inventory on
// loopback, and every connection is recorded to prove nothing beyond loopback was touched.
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localTrackerRoot } from '../../activities/tracker';
import { createDispatcher } from '../../intake/dispatch';
import { prowlerSource } from '../../intake/sources/prowler';
import type { NormalizedAlert } from '../../lib/alert';
import type { CarriedInvestigation } from '../../lib/investigation';
import type { LocalIssue } from '../../lib/local-issues';
import { alertSearchAttributes, VigilActors, VigilIssue, VigilIssueState, VigilResources, vigilSearchAttributeKeys } from '../../lib/search-attributes';
import { ensureNamespace } from '../../lib/temporal-setup';
import { listExecutions } from '../../lib/visibility';
import type { RescanSummary } from '../../workflows/rescan-inventory';
import { recordConnections, type ConnectionLog } from '../helpers/connections';
import { startAnsweringPort, writeStaticInventory, type AnsweringPort } from '../helpers/exposed-machines';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

const { IndexedValueType } = proto.temporal.api.enums.v1;
const guardDutyFixture = path.resolve(import.meta.dirname, '../fixtures/guardduty/ssh-brute-force.eventbridge.json');
/** The instance the GuardDuty finding names; the inventory knows it by that id among others. */
const INSTANCE = 'i-0a1b2c3d4e5f60718';
/** A security group only the inventory ties to that instance: no alert names both. */
const GROUP = 'sg-0feed0000000000aa';

let connections: ConnectionLog;
let answering: AnsweringPort;
let port: number;
let vigil: TestVigil;

beforeAll(async () => {
  connections = recordConnections();
  answering = await startAnsweringPort();
  port = answering.port;
  const inventory = await writeStaticInventory([
    { id: 'web-1', addresses: ['127.0.0.1'], refs: [INSTANCE, GROUP], open: port },
    { id: 'db-9', addresses: ['127.0.0.2'], refs: ['i-0unrelated00000000'], open: 1 },
  ]);
  vigil = await startTestVigil({ inventory: { static: { files: [inventory] } }, rescan: { sensitivePorts: [port] } });
});

afterAll(async () => {
  await vigil?.stop();
  await answering?.close();
  connections.stop();
  expect(connections.outsideLoopback()).toEqual([]);
});

const generic = (id: string, extra: object) => ({ id, title: `alert ${id}`, severity: 'high', ...extra });

/** Posts an alert; returns the workflow that took it. */
async function send(source: string, body: string | object): Promise<string> {
  const response = await vigil.post(source, body);
  expect(response.status).toBe(202);
  const [accepted] = response.body.alerts;
  expect(accepted.dispatched).toBe(true);
  return accepted.workflowId as string;
}

/** The investigation's issue once its first report is complete. */
async function reportedIssue(workflowId: string): Promise<LocalIssue> {
  const progress = await eventually(async () => ((await queryProgress(vigil.client, workflowId))?.firstReportComplete ? queryProgress(vigil.client, workflowId) : undefined), 60_000);
  return (await vigil.tracker.readIssue(progress!.issue!.number))!;
}

/** How many signals of that name the workflow's history holds (every run of it). */
async function signalsOf(workflowId: string, name: string): Promise<number> {
  const events = (await vigil.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  return events.filter((event) => event.workflowExecutionSignaledEventAttributes?.signalName === name).length;
}

/** How many activities of that type completed in the workflow's history. */
async function completedActivities(workflowId: string, type: string): Promise<number> {
  const events = (await vigil.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = new Set(events.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === type).map((event) => String(event.eventId)));
  return events.filter((event) => scheduled.has(String(event.activityTaskCompletedEventAttributes?.scheduledEventId))).length;
}

const linkTo = (issue: LocalIssue) => `[#${issue.number}](/issues#issue-${issue.number})`;
const count = (text: string, part: string) => text.split(part).length - 1;

/** The issue once its body links to `other`. */
const linkedTo = (issue: LocalIssue, other: LocalIssue) =>
  eventually(async () => {
    const current = (await vigil.tracker.readIssue(issue.number))!;
    return current.body.includes(linkTo(other)) ? current : undefined;
  }, 60_000);

describe('investigations that know about each other', () => {
  let guardDuty: LocalIssue;
  let exposure: LocalIssue;
  let exposureWorkflow: string;

  it('two sources about one machine, named differently (the instance, a security group in front of it): two issues linked both ways', async () => {
    const guardDutyWorkflow = await send('guardduty', await readFile(guardDutyFixture, 'utf8'));
    guardDuty = await reportedIssue(guardDutyWorkflow);
    exposureWorkflow = await send('generic', generic('sh-ec2-19', { kind: 'exposure', resources: [{ type: 'aws:ec2:security-group', id: GROUP }], network: { ports: [port] } }));
    exposure = await reportedIssue(exposureWorkflow);
    expect(exposure.number).not.toBe(guardDuty.number);

    const exposureBody = (await linkedTo(exposure, guardDuty)).body;
    const guardDutyBody = (await linkedTo(guardDuty, exposure)).body;
    // Both carry the machine as the inventory knows it, which neither alert named.
    expect(exposureBody).toContain('also about `static:inventory:resource:web-1`');
    expect(guardDutyBody).toContain('also about `static:inventory:resource:web-1`');
    expect(guardDutyBody).toMatch(new RegExp(`${linkTo(exposure).replace(/[[\]()#]/g, '\\$&')} \`\\[high\\] alert sh-ec2-19\` \\(\`generic\` \`exposure\`, open\\)`));
    const described = await vigil.client.workflow.getHandle(exposureWorkflow).describe();
    expect(described.typedSearchAttributes.get(VigilResources)).toEqual(expect.arrayContaining([`aws:ec2:security-group:${GROUP}`, 'static:inventory:resource:web-1']));
    expect(described.typedSearchAttributes.get(VigilIssue)).toBe(String(exposure.number));
    expect(described.typedSearchAttributes.get(VigilIssueState)).toBe('open');
  });

  it('a re-scan of the open exposure re-checks that investigation: no new issue', async () => {
    const before = (await vigil.tracker.listIssues()).length;
    const checks = (await queryProgress(vigil.client, exposureWorkflow))!.watch?.checks ?? 0;
    const summary = (await vigil.client.workflow.execute('rescanInventory', {
      args: [{ provider: 'static', scope: 'static' }],
      taskQueue: vigil.config.temporal.taskQueue,
      workflowId: `test-rescan/static/${Date.now()}`,
    })) as RescanSummary;
    expect(summary).toMatchObject({ violations: 1, started: 0, rechecked: 1, undispatched: 0 });
    await eventually(async () => (((await queryProgress(vigil.client, exposureWorkflow))?.watch?.checks ?? 0) > checks ? true : undefined), 60_000);
    const issues = await vigil.tracker.listIssues();
    expect(issues).toHaveLength(before);
    expect(issues.some((issue) => issue.labels.includes('source:vigil-rescan'))).toBe(false);
    // The re-scan's finding joined the investigation: counted there, its ports merged into what it probes.
    const seen = await eventually(async () => (await vigil.tracker.readIssue(exposure.number))!.comments.find((comment) => comment.body.startsWith('### Seen 2 times')), 60_000);
    expect(seen.body).toContain('exposes');
  });

  it('another source reporting the same exposure joins the open investigation; its redelivery counts once', async () => {
    const body = generic('prowler-sg-open', { kind: 'exposure', resources: [{ type: 'static:inventory:resource', id: 'web-1' }], network: { ports: [port] } });
    const response = await vigil.post('generic', body);
    expect(response.body.alerts[0]).toMatchObject({ workflowId: exposureWorkflow, dispatched: true, merged: true, rechecked: true });
    await eventually(async () => ((await queryProgress(vigil.client, exposureWorkflow))?.occurrences === 3 ? true : undefined), 60_000);
    const again = await vigil.post('generic', body);
    expect(again.body.alerts[0]).toMatchObject({ workflowId: exposureWorkflow, merged: true });
    // Told twice, counted once: the occurrence is the same.
    expect((await queryProgress(vigil.client, exposureWorkflow))!.occurrences).toBe(3);
    expect((await vigil.tracker.listIssues()).filter((issue) => issue.fingerprint === 'prowler-sg-open')).toEqual([]);
  });

  it('two actor alerts naming one address are linked; an unrelated one is not; a redelivery or a repeat tells nothing twice', async () => {
    const actor = (id: string, ...ips: string[]) => generic(id, { kind: 'actor', actors: { ips } });
    const first = await reportedIssue(await send('generic', actor('login-burst', '192.0.2.77', '192.0.2.78')));
    const secondBody = actor('api-burst', '192.0.2.77');
    const second = await reportedIssue(await send('generic', secondBody));
    const unrelated = await reportedIssue(await send('generic', actor('other-burst', '192.0.2.99')));

    await linkedTo(first, second);
    const linked = await linkedTo(second, first);
    expect(linked.body).toContain('also about `ip:192.0.2.77`');

    // Told at most once each way (whichever saw the other), whatever comes after.
    const toldFirst = await signalsOf('alert/generic/login-burst', 'relatedFound');
    expect(toldFirst).toBeLessThanOrEqual(1);
    await send('generic', secondBody);
    const done = await queryProgress(vigil.client, 'alert/generic/api-burst');
    expect(done!.occurrences).toBe(1);
    // A repeat naming the first's other address looks again, for that address only: the first,
    // already linked, is not told again.
    await send('generic', { ...actor('api-burst', '192.0.2.77', '192.0.2.78'), description: 'seen again' });
    await eventually(async () => ((await completedActivities('alert/generic/api-burst', 'correlate')) === 2 ? true : undefined), 60_000);
    expect(await signalsOf('alert/generic/login-burst', 'relatedFound')).toBe(toldFirst);
    for (const [issue, other] of [
      [first, second],
      [second, first],
    ] as const) {
      const { body } = (await vigil.tracker.readIssue(issue.number))!;
      expect(count(body, linkTo(other))).toBe(1);
      expect(body).not.toContain(linkTo(unrelated));
      expect(body).not.toContain(linkTo(guardDuty));
    }
    const alone = (await vigil.tracker.readIssue(unrelated.number))!;
    expect(alone.body).toContain('None found so far');
  });

  it('two alerts arriving together still end up linked both ways', async () => {
    const together = (id: string) => send('generic', generic(id, { kind: 'actor', actors: { ips: ['192.0.2.200'] } }));
    const [left, right] = await Promise.all([together('console-a'), together('console-b')]).then((ids) => Promise.all(ids.map(reportedIssue)));
    expect((await linkedTo(left!, right!)).body).toContain('also about `ip:192.0.2.200`');
    await linkedTo(right!, left!);
  });

  it('an investigation that has ended is told on its issue by a keyed comment, once however often', async () => {
    const ended = await reportedIssue(await send('generic', generic('old-scan', { kind: 'actor', actors: { ips: ['192.0.2.123'] } })));
    await vigil.client.workflow.getHandle('alert/generic/old-scan').terminate('the test ends it');
    const laterBody = generic('new-scan', { kind: 'actor', actors: { ips: ['192.0.2.123'] } });
    const later = await reportedIssue(await send('generic', laterBody));
    await linkedTo(later, ended);
    const told = await eventually(async () => {
      const comments = (await vigil.tracker.readIssue(ended.number))!.comments.filter((comment) => comment.key === 'related/alert/generic/new-scan');
      return comments.length > 0 ? comments : undefined;
    }, 60_000);
    expect(told).toHaveLength(1);
    expect(told[0]!.body).toContain(`### Also: #${later.number}`);
    await send('generic', laterBody);
    expect((await vigil.tracker.readIssue(ended.number))!.comments.filter((comment) => comment.key.startsWith('related/'))).toHaveLength(1);
  });
});

describe('what correlation and routing withstand', { timeout: 240_000 }, () => {
  const exposureAbout = (id: string, resources: { type: string; id: string }[]) => generic(id, { kind: 'exposure', resources, network: { ports: [port] } });
  /** Until visibility lists the investigation with its issue in that state. */
  const listedAs = (workflowId: string, state: string) =>
    eventually(async () => ((await listExecutions(vigil.client, `WorkflowId = '${workflowId}' AND ${VigilIssueState.name} = '${state}' AND ${VigilIssue.name} IS NOT NULL`, 1)).length > 0 ? true : undefined), 60_000);

  it('fifty long resource names fit Temporal\'s limit on a value, at dispatch and once the inventory answered, and still match', async () => {
    const longName = (n: number) => `projects/${'p'.repeat(40)}/zones/europe-west1-b/instances/${'vm'.repeat(100)}-${n}`;
    const resources = Array.from({ length: 50 }, (_, n) => ({ type: 'gcp:compute:instance', id: longName(n) }));
    const workflowId = await send('generic', exposureAbout('long-names', resources));
    await reportedIssue(workflowId);
    const kept = (await vigil.client.workflow.getHandle(workflowId).describe()).typedSearchAttributes.get(VigilResources)!;
    expect(Buffer.byteLength(JSON.stringify(kept))).toBeLessThanOrEqual(2048);
    expect(kept[0]).toMatch(/^gcp:compute:instance:projects\/p+\/zones\/.+~[0-9a-f]{32}$/);
    // Another exposure naming the same long name finds it by the same bounded keyword.
    await listedAs(workflowId, 'open');
    const again = await vigil.post('generic', exposureAbout('long-names-again', [resources[0]!]));
    expect(again.body.alerts[0]).toMatchObject({ workflowId, dispatched: true, merged: true });
  });

  it('an exposure of a silenced investigation\'s resource opens its own issue, not merged where nothing is said', async () => {
    const box = [{ type: 'test:box', id: 'silenced-box' }];
    const silencedWorkflow = await send('generic', exposureAbout('silenced-first', box));
    const silenced = await reportedIssue(silencedWorkflow);
    const labelled = await fetch(`${vigil.url}/v1/issues/${silenced.number}/labels`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${vigil.trackerToken}` },
      body: JSON.stringify({ add: ['vigil:suppress'] }),
    });
    expect(labelled.status).toBe(200);
    await listedAs(silencedWorkflow, 'suppressed');
    const response = await vigil.post('generic', exposureAbout('silenced-second', box));
    expect(response.body.alerts[0]).toMatchObject({ workflowId: 'alert/generic/silenced-second', dispatched: true });
    expect(response.body.alerts[0].merged).toBeUndefined();
  });

  it('an ended investigation whose issue a person silenced is linked, but not commented on', async () => {
    const actor = (id: string) => generic(id, { kind: 'actor', actors: { ips: ['192.0.2.124'] } });
    const silenced = await reportedIssue(await send('generic', actor('quiet-old')));
    const labelled = await fetch(`${vigil.url}/v1/issues/${silenced.number}/labels`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${vigil.trackerToken}` },
      body: JSON.stringify({ add: ['vigil:suppress'] }),
    });
    expect(labelled.status).toBe(200);
    await eventually(async () => ((await queryProgress(vigil.client, 'alert/generic/quiet-old'))?.suppressed ? true : undefined), 60_000);
    await vigil.client.workflow.getHandle('alert/generic/quiet-old').terminate('the test ends it');
    const later = await reportedIssue(await send('generic', actor('quiet-new')));
    await linkedTo(later, silenced);
    expect((await vigil.tracker.readIssue(silenced.number))!.comments.filter((comment) => comment.key.startsWith('related/'))).toEqual([]);
  });

  it('one related investigation that cannot be told (its issue deleted) does not keep the others from being linked', async () => {
    const actor = (id: string) => generic(id, { kind: 'actor', actors: { ips: ['192.0.2.150'] } });
    const gone = await reportedIssue(await send('generic', actor('gone-1')));
    const running = await reportedIssue(await send('generic', actor('still-2')));
    await linkedTo(running, gone);
    await vigil.client.workflow.getHandle('alert/generic/gone-1').terminate('the test ends it');
    await rm(path.join(localTrackerRoot(vigil.config), 'issues', `${gone.number}.json`));
    const later = await reportedIssue(await send('generic', actor('later-3')));
    await linkedTo(later, running);
    await linkedTo(running, later);
  });

  it("a redelivery after the alert's own investigation ended goes to its own, not merged into another", async () => {
    const box = [{ type: 'test:box', id: 'redelivered-box' }];
    const firstBody = exposureAbout('redelivered-first', box);
    const first = await send('generic', firstBody);
    await reportedIssue(first);
    await vigil.client.workflow.getHandle(first).terminate('the test ends it');
    const other = await send('generic', exposureAbout('redelivered-other', box));
    expect(other).toBe('alert/generic/redelivered-other');
    await reportedIssue(other);
    await listedAs(other, 'open');
    const again = await vigil.post('generic', firstBody);
    expect(again.body.alerts[0]).toMatchObject({ workflowId: first, dispatched: true });
    expect(again.body.alerts[0].merged).toBeUndefined();
    expect((await queryProgress(vigil.client, other))!.occurrences).toBe(1);
  });

  it('an actor so common that a look fills up (a deploy role) is linked here, without telling every investigation that names it', async () => {
    // Investigations no worker runs: listed by their attributes, and their histories show any signal.
    const role = `arn:aws:iam::111111111111:role/deploy-${randomUUID()}`;
    const busy = Array.from({ length: 20 }, (_, n) => `busy-${randomUUID()}-${n}`);
    const taskQueue = `unpolled-${randomUUID()}`;
    try {
      for (const [n, workflowId] of busy.entries()) {
        await vigil.client.workflow.start('investigateAlert', {
          taskQueue,
          workflowId,
          args: [],
          typedSearchAttributes: [
            { key: VigilActors, value: [`principal:${role}`] },
            { key: VigilIssue, value: String(900 + n) },
            { key: VigilIssueState, value: 'open' },
          ],
        });
      }
      await eventually(async () => ((await vigil.client.workflow.count(`VigilActors = 'principal:${role}'`)).count === busy.length ? true : undefined), 60_000);
      const issue = await reportedIssue(await send('generic', generic('deploy-burst', { kind: 'actor', actors: { principals: [role] } })));
      await eventually(async () => ((await vigil.tracker.readIssue(issue.number))!.body.includes('/issues#issue-9') ? true : undefined), 60_000);
      for (const workflowId of busy.slice(0, 3)) {
        const { events } = await vigil.client.workflow.getHandle(workflowId).fetchHistory();
        expect(events!.filter((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'relatedFound')).toEqual([]);
      }
    } finally {
      await Promise.all(busy.map((workflowId) => vigil.client.workflow.getHandle(workflowId).terminate('test over')));
    }
  });

  it('the resolution of an alert merged into another investigation goes there, not unwatched', async () => {
    const findings = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../fixtures/prowler/vigil-exposure.ocsf.json'), 'utf8')) as { finding_info: { uid: string }; status_code: string }[];
    const nextScan = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../fixtures/prowler/vigil-exposure-next-scan.ocsf.json'), 'utf8')) as typeof findings;
    const uid = (finding: (typeof findings)[number]) => finding.finding_info.uid.startsWith('prowler-aws-ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22');
    // Another source's exposure about the same security group, as Prowler names it, is under investigation.
    const [failing] = prowlerSource.parse([findings.find(uid)]);
    const owner = await send('generic', exposureAbout('merged-owner', failing!.resources.map(({ type, id }) => ({ type, id }))));
    await reportedIssue(owner);
    await listedAs(owner, 'open');
    const failed = await vigil.post('prowler', [findings.find(uid)]);
    expect(failed.body.alerts[0]).toMatchObject({ workflowId: owner, dispatched: true, merged: true });
    await eventually(async () => ((await listExecutions(vigil.client, `WorkflowId = '${owner}' AND VigilMerged IS NOT NULL`, 1)).length > 0 ? true : undefined), 60_000);
    const passed = await vigil.post('prowler', [nextScan.find(uid)]);
    expect(passed.body.alerts[0]).toMatchObject({ workflowId: owner, dispatched: true, merged: true });
    expect(passed.body.alerts[0].unwatched).toBeUndefined();
  });

  it('a run carried without its issue in its search attributes (resumed, or continued from before correlation) sets them, and is routed to', async () => {
    const box = [{ type: 'test:box', id: 'carried-box' }];
    const workflowId = 'alert/generic/carried-first';
    const alert: NormalizedAlert = {
      source: 'generic',
      kind: 'exposure',
      fingerprint: 'carried-first',
      title: 'carried',
      severity: 'high',
      resources: box,
      network: { ips: [], cidrs: [], ports: [{ from: port, to: port }] },
      actors: { ips: [], domains: [], principals: [], userAgents: [] },
      archive: { id: 'carried', sha256: 'carried', receivedAt: new Date().toISOString() },
    };
    const { issue } = await vigil.tracker.findOrCreateIssue({ fingerprint: 'carried-first', workflowId, title: 'carried', body: 'Vigil is investigating.', labels: ['vigil'] });
    const carried: CarriedInvestigation = {
      alert,
      progress: {
        issue,
        issueState: 'open',
        suppressed: false,
        occurrences: 1,
        reportedDeliveries: ['carried#0'],
        firstReportComplete: true,
        reportRun: 'earlier-run',
        exposure: 'unconfirmed',
        watch: { state: 'watching', since: new Date().toISOString(), checks: 0, cleanStreak: 0 },
      },
      lastFindings: [],
    };
    // As intake/issue-signals.ts started resumed runs before: the alert's attributes only.
    await vigil.client.workflow.start('investigateAlert', { workflowId, taskQueue: vigil.config.temporal.taskQueue, args: [carried], typedSearchAttributes: alertSearchAttributes(alert) });
    await listedAs(workflowId, 'open');
    const response = await vigil.post('generic', exposureAbout('carried-second', box));
    expect(response.body.alerts[0]).toMatchObject({ workflowId, dispatched: true, merged: true });
  });
});

describe('a routing lookup that fails', { timeout: 120_000 }, () => {
  it('lets the exposure open its own investigation: the start does not depend on visibility', async () => {
    // A namespace where the routing query is refused: VigilIssueState, which it names, is not
    // registered there (the start does not set it).
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      const namespace = `routing-refused-${Date.now()}`;
      await ensureNamespace(connection, namespace);
      const searchAttributes = Object.fromEntries(
        vigilSearchAttributeKeys.filter(({ name }) => name !== VigilIssueState.name).map(({ name, type }) => [name, type === SearchAttributeType.KEYWORD_LIST ? IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST : IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      );
      await eventually(async () => {
        try {
          await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
          return true;
        } catch {
          return undefined; // The new namespace is not known everywhere yet.
        }
      }, 60_000);
      const client = new Client({ connection, namespace });
      await eventually(async () => ((await connection.operatorService.listSearchAttributes({ namespace })).customAttributes?.VigilResources ? true : undefined), 60_000);
      const dispatch = createDispatcher(client, { taskQueue: `routing-refused-${Date.now()}`, timeoutMs: 10_000 });
      const alert: NormalizedAlert = {
        source: 'generic',
        kind: 'exposure',
        fingerprint: 'routing-refused',
        title: 'routing refused',
        severity: 'high',
        resources: [{ type: 'test:box', id: 'routing-refused' }],
        network: { ips: [], cidrs: [], ports: [{ from: 22, to: 22 }] },
        actors: { ips: [], domains: [], principals: [], userAgents: [] },
        archive: { id: 'routing-refused', sha256: 'routing-refused', receivedAt: new Date().toISOString() },
      };
      await expect(dispatch(alert, 'alert/generic/routing-refused')).resolves.toBe('signalled');
      expect((await client.workflow.getHandle('alert/generic/routing-refused').describe()).status.name).toBe('RUNNING');
      await client.workflow.getHandle('alert/generic/routing-refused').terminate('the test ends it');
    } finally {
      await connection.close();
    }
  });
});
