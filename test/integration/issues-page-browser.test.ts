// The local tracker's page in a real Chromium, served by a real intake with its strict CSP: issues
// are listed one line each and open with a click (no script), and a long line wraps instead of
// widening the page.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localTrackerRoot } from '../../activities/tracker';
import { createLocalTracker } from '../../activities/tracker/local';
import { configSchema } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { locatePrerequisite } from '../../scripts/prerequisites';
import { startIntake } from '../../workers/intake';

const token = 'issues-page-browser-token-0123456789';
// No space to break at: only overflow-wrap can fit it into the page.
const longLine = `arn:aws:ec2:eu-west-1:111122223333:security-group/${'sg-0123456789abcdef0'.repeat(20)}`;

let app: FastifyInstance;
let connection: Connection;
let dataDir: string;
let url: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-issues-page-'));
  const config = configSchema.parse({ dataDir, intake: { port: 0 }, tracker: { local: { token } } });
  const tracker = createLocalTracker({ root: localTrackerRoot(config) });
  for (const n of [1, 2]) {
    const { issue } = await tracker.findOrCreateIssue({ fingerprint: `page-${n}`, workflowId: `alert/generic/page-${n}`, title: `Exposure ${n}: ${longLine}`, body: `Body ${n}`, labels: ['kind:exposure'] });
    await tracker.upsertComment(issue.number, `alert/generic/page-${n}#report`, `### Exposure checks\n\n${longLine}\n\n\`\`\`text\n${longLine}\n\`\`\`\n\n| target |\n|---|\n| \`${longLine}\` |`);
  }
  // Logging in and reading the page need no Temporal.
  connection = Connection.lazy({ address: inject('temporalAddress') });
  ({ app, url } = await startIntake({ config, token, client: new Client({ connection }), logger: createLogger('issues-page-browser-test', 'silent') }));
  browser = await chromium.launch({ executablePath: locatePrerequisite('chromium') });
  page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  await page.goto(`${url}/login`);
  await page.fill('input[name="token"]', token);
  await Promise.all([page.waitForURL(`${url}/issues`), page.click('button')]);
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await connection?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The ids of the issues shown open (a click on a summary sets its details' `open` attribute). */
const openIssues = async () => Promise.all((await page.locator('details.issue[open]').all()).map((issue) => issue.getAttribute('id')));
const scrolls = () =>
  page.evaluate('({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth })') as Promise<{ scrollWidth: number; clientWidth: number }>;

describe('the local tracker page in Chromium', () => {
  it('lists the issues collapsed, one line each, and opens one with a click', async () => {
    expect(await page.locator('details.issue').count()).toBe(2);
    expect(await openIssues()).toEqual([]);
    expect(await page.locator('#issue-1 .comment').isVisible()).toBe(false);
    await page.click('#issue-1 > summary');
    expect(await openIssues()).toEqual(['issue-1']);
    expect(await page.locator('#issue-1 .comment').isVisible()).toBe(true);
  });

  it('wraps a long line, in text, code and tables, instead of scrolling sideways', async () => {
    await page.click('#issue-2 > summary');
    expect(await openIssues()).toEqual(['issue-2', 'issue-1']);
    const { scrollWidth, clientWidth } = await scrolls();
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
    for (const selector of ['#issue-2 .comment pre', '#issue-2 .comment table', '#issue-2 summary']) {
      const box = await page.locator(selector).first().boundingBox();
      expect(box!.x + box!.width, selector).toBeLessThanOrEqual(clientWidth);
    }
  });
});
