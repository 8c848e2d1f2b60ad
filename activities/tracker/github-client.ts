// The Octokit client of the GitHub tracker, and what its failures mean for Temporal: retried
// (transient: server errors, rate limits the plugins gave up on) or not (the configuration is wrong
// and only a person can fix it). Secrets never reach a log line or an error message.
import { createPrivateKey } from 'node:crypto';
import { createAppAuth } from '@octokit/auth-app';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { ApplicationFailure } from '@temporalio/common';
import Bottleneck from 'bottleneck';
import { resolveSecret, type GitHubSettings } from '../../lib/config';
import { createLogger } from '../../lib/logger';

export interface GitHubClientOptions {
  env?: NodeJS.ProcessEnv;
  log?: { debug(message: string): void; warn(message: string): void };
  /** Retries of failed requests (5xx, lost connections) by @octokit/plugin-retry. */
  retries?: number;
  /** Delay unit of those retries: the n-th waits n² times this (GitHub's plugin default: 1000). */
  retryBaseDelayMs?: number;
  /** How many times a rate-limited request waits for `retry-after` and goes again. */
  rateLimitRetries?: number;
  /** Longest rate-limit wait taken in-process; a longer one fails the attempt for Temporal to retry. */
  maxRateLimitWaitSeconds?: number;
  /**
   * Spacing of writes, and of writes that notify people (issues, comments), which GitHub asks to be
   * 1 s and 3 s apart to stay clear of secondary rate limits (the throttling plugin's defaults).
   */
  writeIntervalMs?: number;
  notifyingWriteIntervalMs?: number;
  /** Bound on one request, so a hung connection becomes a retryable failure. */
  requestTimeoutMs?: number;
}

export type GitHubClient = InstanceType<typeof VigilOctokit>;

const VigilOctokit = Octokit.plugin(retry, throttling);

/** What GitHub's rate-limited answers say (primary and secondary limits). */
const rateLimited = /\b(secondary )?rate limit/i;

/** Removes every secret (and anything shaped like a GitHub token or a private key) from a text. */
export function redactor(secrets: string[]): (text: string) => string {
  const known = secrets.filter((secret) => secret.length >= 8);
  return (text) => {
    let out = text;
    for (const secret of known) out = out.split(secret).join('[redacted]');
    return out
      .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[redacted private key]')
      .replace(/\b(gh[pousr]_[A-Za-z0-9_]{16,}|github_pat_[A-Za-z0-9_]{16,})/g, '[redacted]');
  };
}

interface Credentials {
  secrets: string[];
  auth: { auth: string } | { authStrategy: typeof createAppAuth; auth: { appId: number | string; privateKey: string; installationId: number } };
}

function credentials(settings: GitHubSettings, env: NodeJS.ProcessEnv | undefined): Credentials {
  const { auth } = settings;
  if ('token' in auth) {
    const token = resolveSecret(auth.token, 'tracker.github.auth.token', env);
    return { secrets: [token], auth: { auth: token } };
  }
  // Keys kept in one-line environment variables often carry `\n` for their line breaks.
  const privateKey = resolveSecret(auth.privateKey, 'tracker.github.auth.privateKey', env).replace(/\\n/g, '\n');
  try {
    createPrivateKey(privateKey);
  } catch {
    // Said here, at start, rather than on the first request; the key itself is never repeated.
    throw ApplicationFailure.nonRetryable(
      'tracker.github.auth.privateKey is not a PEM private key: use the .pem file GitHub generated for the app',
      'GitHubMisconfigured',
    );
  }
  return {
    secrets: [privateKey, ...privateKey.split('\n').filter((line) => line.length >= 40)],
    auth: { authStrategy: createAppAuth, auth: { appId: auth.appId, privateKey, installationId: auth.installationId } },
  };
}

export function createGitHubClient(settings: GitHubSettings, options: GitHubClientOptions = {}) {
  const { secrets, auth } = credentials(settings, options.env);
  const redact = redactor(secrets);
  const log = options.log ?? createLogger('github-tracker');
  const rateLimitRetries = options.rateLimitRetries ?? 3;
  const maxWait = options.maxRateLimitWaitSeconds ?? 60;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;

  const onLimit = (kind: string) => (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
    const again = retryCount < rateLimitRetries && retryAfter <= maxWait;
    log.warn(redact(`GitHub ${kind} on ${request.method} ${request.url}: ${again ? `retrying in ${retryAfter} s` : 'giving up for now'}`));
    return again;
  };

  const octokit = new VigilOctokit({
    ...auth,
    baseUrl: settings.baseUrl.replace(/\/+$/, ''),
    userAgent: 'vigil-github-tracker',
    // Octokit's own lines (one per request, deprecations) as debug and warnings; request options,
    // which carry the Authorization header, are never passed on.
    log: {
      debug: (message: unknown) => log.debug(redact(String(message))),
      info: (message: unknown) => log.debug(redact(String(message))),
      warn: (message: unknown) => log.warn(redact(String(message))),
      error: (message: unknown) => log.debug(redact(String(message))),
    },
    retry: { retries: options.retries ?? 3, ...(options.retryBaseDelayMs !== undefined ? { retryAfterBaseValue: options.retryBaseDelayMs } : {}) },
    throttle: {
      onRateLimit: onLimit('rate limit'),
      onSecondaryRateLimit: onLimit('secondary rate limit'),
      ...(options.writeIntervalMs !== undefined ? { write: new Bottleneck.Group({ maxConcurrent: 1, minTime: options.writeIntervalMs }) } : {}),
      ...(options.notifyingWriteIntervalMs !== undefined
        ? { notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: options.notifyingWriteIntervalMs }) }
        : {}),
    },
    request: {
      fetch: (url: string, init: RequestInit) => fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(timeoutMs) }),
    },
  });
  return { octokit, redact };
}

/** The parts of Octokit's RequestError (named `HttpError`) the tracker reads. */
export interface HttpError {
  status: number;
  message: string;
  response?: { headers: Record<string, string | undefined>; data?: unknown };
  request?: { method: string; url: string };
}

export function asHttpError(err: unknown): HttpError | undefined {
  if (typeof err !== 'object' || err === null || (err as Error).name !== 'HttpError') return undefined;
  return typeof (err as HttpError).status === 'number' ? (err as HttpError) : undefined;
}

export const statusOf = (err: unknown): number | undefined => asHttpError(err)?.status;

/**
 * Whether a failed write may have been carried out all the same: a server error, a cut connection
 * or a timeout (Octokit reports the last two as status 500). Such a write is looked for before it
 * is sent again.
 */
export function mayHaveHappened(err: unknown): boolean {
  const status = statusOf(err);
  return status === undefined || status >= 500;
}

export function isRateLimit(err: HttpError): boolean {
  if (err.status === 429) return true;
  const headers = err.response?.headers ?? {};
  return err.status === 403 && (rateLimited.test(err.message) || headers['x-ratelimit-remaining'] === '0' || headers['retry-after'] !== undefined);
}

/** GitHub's own message without the documentation URL Octokit appends. */
export const gitHubMessage = (err: HttpError) => err.message.replace(/ - https:\/\/docs\.github\.com\S*$/, '');

export const misconfigured = (message: string) => ApplicationFailure.nonRetryable(message, 'GitHubMisconfigured');
