// Correlation end to end on real Temporal: investigations about one machine (named differently by
// each source, resolved by the inventory) or one actor link to each other on their issues, both
// ways; an exposure of a resource that already has an open investigation, and a re-scan of it,
// re-check that investigation instead of opening another issue; unrelated alerts stay apart; a
// redelivery links nothing twice. The machines are in a static inventory on loopback, and every
// connection is recorded to prove nothing beyond loopback was touched.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalIssue } from '../../lib/local-issues';
import { VigilIssue, VigilIssueState, VigilResources } from '../../lib/search-attributes';
import type { RescanSummary } from '../../workflows/rescan-inventory';
import { recordConnections, type ConnectionLog } from '../helpers/connections';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

const guardDutyFixture = path.resolve(import.meta.dirname, '../fixtures/guardduty/ssh-brute-force.eventbridge.json');
/** The instance the GuardDuty finding names; the inventory knows it by that id among others. */
const INSTANCE = 'i-0a1b2c3d4e5f60718';
/** A security group only the inventory ties to that instance: no alert names both. */
const GROUP = 'sg-0feed0000000000aa';

let connections: ConnectionLog;
let server: net.Server;
let port: number;
let vigil: TestVigil;

beforeAll(async () => {
  connections = recordConnections();
  // What answers on the exposed port: an exposure that is really open.
  server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-correlation-'));
  const inventory = path.join(dir, 'inventory.yaml');
  await writeFile(
    inventory,
    [
      'resources:',
      '  - id: web-1',
      '    addresses: [127.0.0.1]',
      `    refs: [${INSTANCE}, ${GROUP}]`,
      `    open: [{ protocol: tcp, ports: ${port} }]`,
      '  - id: db-9',
      '    addresses: [127.0.0.2]',
      '    refs: [i-0unrelated00000000]',
      '    open: [{ protocol: tcp, ports: 1 }]',
    ].join('\n'),
  );
  vigil = await startTestVigil({ inventory: { static: { files: [inventory] } }, rescan: { sensitivePorts: [port] } });
});

afterAll(async () => {
  await vigil?.stop();
  await new Promise((resolve) => server?.close(resolve));
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

  it('two actor alerts naming one address are linked; an unrelated one is not; a redelivery adds no link twice', async () => {
    const actor = (id: string, ip: string) => generic(id, { kind: 'actor', actors: { ips: [ip] } });
    const first = await reportedIssue(await send('generic', actor('login-burst', '192.0.2.77')));
    const secondBody = actor('api-burst', '192.0.2.77');
    const second = await reportedIssue(await send('generic', secondBody));
    const unrelated = await reportedIssue(await send('generic', actor('other-burst', '192.0.2.99')));

    await linkedTo(first, second);
    const linked = await linkedTo(second, first);
    expect(linked.body).toContain('also about `ip:192.0.2.77`');

    await send('generic', secondBody);
    const done = await queryProgress(vigil.client, 'alert/generic/api-burst');
    expect(done!.occurrences).toBe(1);
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
