// The Temporal Web UI explains an investigation: a real stack (intake, worker, local tracker) on a
// dev server of this test's own with the UI on loopback, a real exposure investigated, then the real
// Chromium (through Playwright) finds it with a documented list filter and reads its summary, static
// details and current details. The documented filters are each run against the same investigation.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import getPort from 'get-port';
import { defaultPayloadConverter } from '@temporalio/common';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { when } from '../../lib/render/issue-body';
import { VigilIssue, VigilResources } from '../../lib/search-attributes';
import { locatePrerequisite } from '../../scripts/prerequisites';
import { startTemporalDevServer, type DevServer } from '../../scripts/temporal-dev-server';
import { startAnsweringPort, writeStaticInventory, type AnsweringPort } from '../helpers/exposed-machines';
import { eventually, queryProgress, startTestVigil, type TestVigil } from '../helpers/vigil';

const NAMESPACE = 'vigil-ui';
const GROUP = 'sg-0ui0e2e000000000a';
const TITLE = `Security group ${GROUP} open to the internet`;

let stateDir: string;
let server: DevServer;
let answering: AnsweringPort;
let vigil: TestVigil;
let browser: Browser;

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-ui-temporal-'));
  server = await startTemporalDevServer({ host: '127.0.0.1', port: await getPort(), uiPort: await getPort(), stateDir, namespaces: [NAMESPACE] });
  answering = await startAnsweringPort();
  const inventory = await writeStaticInventory([{ id: 'web-ui', addresses: ['127.0.0.1'], refs: [GROUP], open: answering.port }]);
  vigil = await startTestVigil({ temporal: { address: server.address, namespace: NAMESPACE }, inventory: { static: { files: [inventory] } } });
  browser = await chromium.launch({ executablePath: locatePrerequisite('chromium'), args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await vigil?.stop();
  await answering?.close();
  await server?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

/** A page that reaches only loopback: the UI is all there is to load. */
async function loopbackPage(): Promise<Page> {
  const page = await browser.newPage();
  await page.route('**/*', (route) => (/^https?:\/\/127\.0\.0\.1[:/]/.test(route.request().url()) ? route.continue() : route.abort()));
  return page;
}

/**
 * The user-metadata tab renders the summary, the details and the current details as markdown, each
 * in a frame of its own, in that order: each frame's content.
 */
function metadataFrames(page: Page) {
  const frame = (index: number) => page.locator('iframe').nth(index).contentFrame().locator('main');
  return { summary: frame(0), details: frame(1), current: frame(2) };
}

/** Waits until the frame shows the text (the UI fills the current details in from a query). */
const waitForText = (frame: Locator, text: string) => frame.filter({ hasText: text }).waitFor({ timeout: 60_000 });

describe('the Temporal Web UI', () => {
  it('finds an investigation through a documented filter and shows its summary and details', async () => {
    const response = await vigil.post('generic', {
      id: 'ui-e2e',
      title: TITLE,
      severity: 'high',
      resources: [{ type: 'aws:ec2:security-group', id: GROUP }],
      network: { ips: ['127.0.0.1'], cidrs: ['0.0.0.0/0'], ports: [answering.port] },
    });
    expect(response.status).toBe(202);
    const { workflowId } = response.body.alerts[0] as { workflowId: string };
    // Reported, probed (the port answers) and watching.
    const progress = await eventually(async () => {
      const now = await queryProgress(vigil.client, workflowId);
      return now?.firstReportComplete && now.watch?.state === 'watching' && now.nextCheckDue ? now : undefined;
    }, 60_000);
    const issue = progress.issue!;
    const described = await vigil.client.workflow.getHandle(workflowId).describe();
    expect(described.typedSearchAttributes.get(VigilIssue)).toBe(String(issue.number));
    expect(described.typedSearchAttributes.get(VigilResources)).toContain(`aws:ec2:security-group:${GROUP}`);

    // Each activity and the watch's wait say what they do, in the history the UI shows.
    const nextCheck = `next check ${when(progress.nextCheckDue!)}`;
    const summaries = await eventually(async () => {
      const { events } = await vigil.client.workflow.getHandle(workflowId).fetchHistory();
      const said = (events ?? []).flatMap(({ userMetadata }) => (userMetadata?.summary ? [defaultPayloadConverter.fromPayload<string>(userMetadata.summary)] : []));
      return said.includes(nextCheck) ? said : undefined;
    });
    expect(summaries).toContain('probe 1 exposure on 1 machine');
    expect(summaries).toContain(`comment exposure · issue #${issue.number}`);

    // Every filter docs/operations.md gives, as a person pastes it, finds this investigation or
    // (for what did not happen to it) is a query the server takes.
    const filters = {
      watching: "VigilKind = 'exposure' AND VigilExposure = 'open' AND ExecutionStatus = 'Running'",
      resource: `VigilResources = 'aws:ec2:security-group:${GROUP}'`,
      issue: `VigilIssue = '${issue.number}'`,
      failed: "VigilFailure IS NOT NULL AND ExecutionStatus = 'Running'",
      acceptedRisk: "VigilIssueState = 'closed' AND VigilExposure = 'open' AND ExecutionStatus = 'Running'",
      silenced: "VigilIssueState = 'suppressed'",
      malicious: "VigilVerdict = 'malicious'",
      severe: "VigilSeverity = 'high' AND VigilKind = 'exposure'",
    };
    const found = async (query: string) => {
      const ids: string[] = [];
      for await (const execution of vigil.client.workflow.list({ query })) ids.push(execution.workflowId);
      return ids;
    };
    for (const query of [filters.watching, filters.resource, filters.issue, filters.severe]) expect(await found(query), query).toEqual([workflowId]);
    for (const query of [filters.failed, filters.acceptedRisk, filters.silenced, filters.malicious]) expect(await found(query), query).toEqual([]);

    const page = await loopbackPage();
    await page.goto(`${server.uiUrl}/namespaces/${NAMESPACE}/workflows?query=${encodeURIComponent(filters.resource)}`);
    const link = page.getByRole('link', { name: workflowId, exact: true });
    await link.first().click({ timeout: 60_000 });
    await page.getByText('User Metadata', { exact: true }).first().click({ timeout: 60_000 });

    const { summary, details, current } = metadataFrames(page);
    await waitForText(summary, `exposure · high · ${TITLE}`);
    await waitForText(details, `Resources: aws:ec2:security-group ${GROUP}`);
    // Read from the running workflow (a query the UI makes): the issue and the watch.
    await waitForText(current, `Issue: #${issue.number} · open`);
    await waitForText(current, `watching: ${answering.port}/tcp open on 1 host`);
    await page.close();

    // A person closes the issue, then silences it: the filters for those states find it (the
    // investigation runs on for a while, in case the alert repeats).
    const act = (action: string, body: object = {}) =>
      fetch(`${vigil.url}/v1/issues/${issue.number}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${vigil.token}` }, body: JSON.stringify(body) });
    expect((await act('close')).status).toBe(200);
    await eventually(async () => ((await found(filters.acceptedRisk)).includes(workflowId) ? true : undefined));
    expect((await act('labels', { add: ['vigil:suppress'] })).status).toBe(200);
    await eventually(async () => ((await found(filters.silenced)).includes(workflowId) ? true : undefined));
  }, 180_000);

  it('shows a hostile alert’s text as text: no image, script or link of its own', async () => {
    const hostile = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../../demo/alerts/03-hostile-text.json'), 'utf8')) as { title: string };
    const response = await vigil.post('generic', hostile);
    expect(response.status).toBe(202);
    const { workflowId } = response.body.alerts[0] as { workflowId: string };
    const { issue } = await eventually(async () => {
      const now = await queryProgress(vigil.client, workflowId);
      return now?.firstReportComplete ? now : undefined;
    }, 60_000);

    const page = await loopbackPage();
    await page.goto(`${server.uiUrl}/namespaces/${NAMESPACE}/workflows?query=${encodeURIComponent(`VigilIssue = '${issue!.number}'`)}`);
    await page.getByRole('link', { name: workflowId, exact: true }).first().click({ timeout: 60_000 });
    await page.getByText('User Metadata', { exact: true }).first().click({ timeout: 60_000 });
    const frames = metadataFrames(page);
    await waitForText(frames.summary, hostile.title);
    await waitForText(frames.details, 'Archive record');
    await waitForText(frames.current, `Issue: #${issue!.number}`);
    for (const frame of Object.values(frames)) expect(await frame.locator('img, script, iframe, details, b').count()).toBe(0);
    const links = await Promise.all(Object.values(frames).map((frame) => frame.locator('a').evaluateAll((anchors) => anchors.map((a) => a.getAttribute('href')))));
    expect(links.flat()).toEqual([issue!.url]);
    await page.close();
  }, 180_000);
});
