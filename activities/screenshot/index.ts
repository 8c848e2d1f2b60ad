// The screenshot activity of the browser task queue: a web page as Chromium shows it, stored as
// evidence under its content hash, and a finding that the watching work can compare run to run.
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { errors } from 'playwright-core';
import type { ScreenshotSettings } from '../../lib/config';
import type { FieldValue, Finding } from '../../lib/finding';
import { screenshots } from '../../lib/metrics';
import type { BlobStore } from '../archive/records';
import { OutOfScopeError, resolveInScope, type ProbeScope } from '../probe/scope';
import { BrowserGoneError, PageTimeoutError, type BlockedRequest, type BrowserPool } from './browser-pool';
import { imageHash } from './image-hash';

export interface ScreenshotEvidence {
  /** Key in the artifact store: `screenshots/<sha256>.png`. */
  key: string;
  sha256: string;
  contentType: 'image/png';
}

export interface ScreenshotResult {
  finding: Finding;
  evidence?: ScreenshotEvidence;
}

export interface ScreenshotDeps {
  settings: ScreenshotSettings;
  scope: ProbeScope;
  artifacts: BlobStore;
  pool: BrowserPool;
}

const HEARTBEAT_EVERY_MS = 1000;
/** Blocked requests listed in the finding's detail (the count is always complete). */
const LISTED_BLOCKED = 20;

interface Captured {
  png: Buffer;
  /** Under way in the browser's offline page while this page closes. */
  imageHash: Promise<string>;
  title: string;
  finalUrl: string;
  httpStatus: number | null;
}

type PageOutcome = { captured: Captured; blocked: BlockedRequest[] } | { error: unknown; blocked: BlockedRequest[] };

function finding(url: string, status: 'captured' | 'blocked' | 'failed', fields: Record<string, FieldValue>, detail: Record<string, unknown>, compared?: Pick<Finding, 'volatile' | 'perceptual'>): Finding {
  return { key: `screenshot/${url}`, check: 'screenshot', target: url, status, fields, ...compared, detail };
}

const blockedDetail = (blocked: BlockedRequest[]) => ({ blocked: blocked.slice(0, LISTED_BLOCKED) });

/** Why a page failed, in a few stable words (the finding is compared run to run). */
function failureReason(err: unknown, timeoutMs: number): string {
  if (err instanceof errors.TimeoutError || err instanceof PageTimeoutError) return `timed out after ${timeoutMs} ms`;
  const message = err instanceof Error ? err.message : String(err);
  return message.match(/net::ERR_[A-Z_]+/)?.[0] ?? message.split('\n')[0]!.slice(0, 200);
}

export function createScreenshotActivities({ settings, scope, artifacts, pool }: ScreenshotDeps) {
  async function visit(url: string, signal: AbortSignal): Promise<PageOutcome> {
    return pool.withPage(
      async ({ page, blocked }) => {
        const started = Date.now();
        try {
          const response = await page.goto(url, { waitUntil: 'load', timeout: settings.timeoutMs });
          const png = await page.screenshot({ type: 'png', timeout: Math.max(1, settings.timeoutMs - (Date.now() - started)) });
          const hash = imageHash(pool, png);
          // Awaited with the artifact's write below; a page that fails meanwhile drops it.
          hash.catch(() => {});
          return { captured: { png, imageHash: hash, title: await page.title(), finalUrl: page.url(), httpStatus: response?.status() ?? null }, blocked };
        } catch (error) {
          if (signal.aborted || !page.context().browser()?.isConnected()) throw error;
          return { error, blocked };
        }
      },
      { signal },
    );
  }

  async function capture(url: string, signal: AbortSignal): Promise<ScreenshotResult> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { finding: finding(url, 'blocked', { title: null, finalUrl: null, blockedRequests: 0, reason: 'not a URL' }, {}) };
    }
    try {
      if (!['http:', 'https:'].includes(parsed.protocol)) throw new OutOfScopeError(url, `${parsed.protocol} URLs are not fetched`);
      await resolveInScope(parsed.hostname, scope);
    } catch (err) {
      if (!(err instanceof OutOfScopeError)) throw err;
      const blocked = [{ url, reason: err.message, navigation: true }];
      return { finding: finding(url, 'blocked', { title: null, finalUrl: null, blockedRequests: 1, reason: err.message }, blockedDetail(blocked)) };
    }

    let outcome: PageOutcome;
    try {
      outcome = await visit(url, signal);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      // A crashed or hung browser says nothing about the page: retried, on a fresh browser.
      if (err instanceof BrowserGoneError) throw ApplicationFailure.retryable(err.message, 'BrowserGone');
      outcome = { error: err, blocked: [] };
    }

    const { blocked } = outcome;
    // A refused redirect can still end in a page: the proxy's refusal, which is not the service's.
    const refusedNavigation = blocked.find((request) => request.navigation);
    if (refusedNavigation) {
      const fields = { title: null, finalUrl: null, blockedRequests: blocked.length, reason: refusedNavigation.reason };
      return { finding: finding(url, 'blocked', fields, blockedDetail(blocked)) };
    }
    if ('error' in outcome) {
      const fields = { title: null, finalUrl: null, blockedRequests: blocked.length, reason: failureReason(outcome.error, settings.timeoutMs) };
      return { finding: finding(url, 'failed', fields, { ...blockedDetail(blocked), error: String(outcome.error).slice(0, 2000) }) };
    }

    const { png, title, finalUrl, httpStatus } = outcome.captured;
    const sha256 = createHash('sha256').update(png).digest('hex');
    const evidence: ScreenshotEvidence = { key: `screenshots/${sha256}.png`, sha256, contentType: 'image/png' };
    const [hash] = await Promise.all([outcome.captured.imageHash, artifacts.put(evidence.key, png, evidence.contentType)]);
    const fields = { title, finalUrl, httpStatus, blockedRequests: blocked.length, imageHash: hash, sha256 };
    // The bytes change with any pixel (a clock, an animation): only a picture that looks different
    // (its image hash far enough from the last) means a change.
    return { finding: finding(url, 'captured', fields, { ...blockedDetail(blocked), evidence: evidence.key }, { volatile: ['sha256'], perceptual: ['imageHash'] }), evidence };
  }

  return {
    async takeScreenshot({ url }: { url: string }): Promise<ScreenshotResult> {
      const context = Context.current();
      const heartbeats = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
      try {
        // An error (the browser gone, a page past its timeout) is retried by the activity: counted as such.
        const result = await capture(url, context.cancellationSignal).catch((err: unknown) => {
          screenshots.inc({ result: 'error' });
          throw err;
        });
        screenshots.inc({ result: result.finding.status });
        return result;
      } finally {
        clearInterval(heartbeats);
      }
    },
  };
}

export type ScreenshotActivities = ReturnType<typeof createScreenshotActivities>;
