// One Chromium per worker process, a fresh context per page, every request checked against the
// probe scope, hard timeouts, and no browser process left behind. Chromium's traffic all goes
// through the scope proxy, which checks each connection; the page's events name what it refused.
// No request interception in the page: it would add a round trip to this process for every
// request and check nothing the proxy does not.
import { chromium, type Browser, type Page, type Request } from 'playwright-core';
import type { ScreenshotSettings } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import type { ProbeScope } from '../probe/scope';
import { chromiumArgs } from './chromium-args';
import { destinationOf, REFUSED_HEADER, startScopeProxy, type ScopeProxy } from './scope-proxy';

/** A request the scope refused. */
export interface BlockedRequest {
  url: string;
  reason: string;
  /** The top frame's document (the page itself, or one of its redirects). */
  navigation: boolean;
}

export interface PageSession {
  page: Page;
  /** Requests refused so far, in order. */
  blocked: BlockedRequest[];
}

export interface BrowserPool {
  /**
   * Runs `use` on a new page in a fresh context, closed afterwards whatever happens. Past
   * `settings.timeoutMs` + a grace, or when `signal` aborts, the context is closed (the browser
   * killed if that hangs) and the call rejects.
   */
  withPage<T>(use: (session: PageSession) => Promise<T>, options?: { signal?: AbortSignal }): Promise<T>;
  /**
   * Runs `fn` in a blank page that can reach nothing and never shows anything from outside: work
   * done by the browser on Vigil's own data. One such page per browser, shared.
   */
  evaluateOffline<R>(fn: (arg: string) => R | Promise<R>, arg: string): Promise<R>;
  /** Launches the browser now rather than at the first page: a missing or broken Chromium shows at start. */
  start(): Promise<void>;
  /** The running browser's process id, when one runs. */
  browserPid(): number | undefined;
  /** Browsers launched so far (recycling and crashes launch new ones). */
  launches(): number;
  /** Closes every browser and the proxy; later calls are refused. */
  close(): Promise<void>;
}

export interface BrowserPoolOptions {
  settings: ScreenshotSettings;
  /** The Chromium binary, found by the worker (settings, VIGIL_CHROMIUM, then the system's). */
  executablePath: string;
  scope: ProbeScope;
  logger?: Logger;
}

/** The browser's own process died or stopped answering while a page was open. */
export class BrowserGoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrowserGoneError';
  }
}

/** The page outlived its hard timeout and was closed. */
export class PageTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`page closed after ${timeoutMs} ms`);
    this.name = 'PageTimeoutError';
  }
}

/** What a page may still do after its navigation timeout (a screenshot) before it is killed. */
const HARD_TIMEOUT_GRACE_MS = 5000;
/** A context or browser that does not close within this is killed. */
const CLOSE_GRACE_MS = 5000;

interface RunningBrowser {
  browser: Browser;
  pid: number;
  pagesStarted: number;
  inFlight: number;
  retired: boolean;
  offlinePage?: Promise<Page>;
}

const within = <T>(work: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve({ done: false }), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve({ done: true, value });
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });

function killGroup(pid: number): void {
  try {
    // Playwright starts Chromium as a process-group leader: this takes its renderers and helpers too.
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

const isTopNavigation = (request: Request) => request.isNavigationRequest() && request.frame().parentFrame() === null;

export function createBrowserPool({ settings, executablePath, scope, logger }: BrowserPoolOptions): BrowserPool {
  const live = new Set<RunningBrowser>();
  let current: Promise<RunningBrowser> | undefined;
  let proxy: Promise<ScopeProxy> | undefined;
  let launched = 0;
  let closed = false;

  async function launch(): Promise<RunningBrowser> {
    proxy ??= startScopeProxy(scope, (destination, reason) => logger?.info({ destination, reason }, 'browser connection refused by the probe scope'));
    const browser = await chromium.launch({
      executablePath,
      args: chromiumArgs(),
      proxy: { server: (await proxy).url },
      // The worker owns its signals and shuts down in order; Playwright still kills Chromium on exit.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      timeout: 30_000,
    });
    const cdp = await browser.newBrowserCDPSession();
    const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; id: number }[] };
    await cdp.detach();
    const pid = processInfo.find((info) => info.type === 'browser')?.id;
    if (pid === undefined) {
      await browser.close();
      throw new Error('Chromium did not report its process id');
    }
    const running: RunningBrowser = { browser, pid, pagesStarted: 0, inFlight: 0, retired: false };
    live.add(running);
    launched += 1;
    browser.on('disconnected', () => {
      running.retired = true;
      live.delete(running);
      // A crash can leave helpers behind; a closed browser's group is empty and this is a no-op.
      killGroup(pid);
    });
    if (closed) await shutDown(running);
    return running;
  }

  async function shutDown(running: RunningBrowser): Promise<void> {
    running.retired = true;
    const closing = await within(running.browser.close(), CLOSE_GRACE_MS).catch(() => ({ done: false as const }));
    if (!closing.done) killGroup(running.pid);
    live.delete(running);
  }

  function retire(running: RunningBrowser): void {
    running.retired = true;
    if (running.inFlight === 0) void shutDown(running);
  }

  async function acquire(counted: boolean): Promise<RunningBrowser> {
    for (;;) {
      if (closed) throw new Error('the browser pool is closed');
      if (!current) {
        const launching = launch();
        current = launching;
        launching.catch(() => {
          if (current === launching) current = undefined;
        });
      }
      const candidate = current;
      const running = await candidate;
      const usable = !running.retired && running.browser.isConnected() && (!counted || running.pagesStarted < settings.pagesPerBrowser);
      if (usable) {
        if (counted) running.pagesStarted += 1;
        running.inFlight += 1;
        return running;
      }
      if (current === candidate) current = undefined;
      retire(running);
    }
  }

  function release(running: RunningBrowser): void {
    running.inFlight -= 1;
    if (running.retired && running.inFlight === 0 && live.has(running)) void shutDown(running);
  }

  async function inFreshContext<T>(setUp: (page: Page) => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    signal?.throwIfAborted();
    const running = await acquire(true);
    const context = await running.browser
      .newContext({
        acceptDownloads: false,
        serviceWorkers: 'block',
        ignoreHTTPSErrors: true,
        javaScriptEnabled: true,
        viewport: settings.viewport,
      })
      .catch((err: unknown) => {
        release(running);
        throw running.browser.isConnected() ? err : new BrowserGoneError(`the browser went away: ${String(err)}`);
      });
    const hardTimeoutMs = settings.timeoutMs + HARD_TIMEOUT_GRACE_MS;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stopped = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PageTimeoutError(hardTimeoutMs)), hardTimeoutMs);
      onAbort = () => reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const work = context.newPage().then(setUp);
      // The loser of the race rejects once the context closes below; nobody waits for it then.
      work.catch(() => {});
      return await Promise.race([work, stopped]);
    } catch (err) {
      if (!running.browser.isConnected()) throw new BrowserGoneError(`the browser went away during the page: ${String(err)}`);
      throw err;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      const closing = await within(context.close(), CLOSE_GRACE_MS).catch(() => ({ done: true as const }));
      if (!closing.done) {
        logger?.warn({ pid: running.pid }, 'a browser context did not close: killing the browser');
        running.retired = true;
        killGroup(running.pid);
      }
      release(running);
    }
  }

  return {
    withPage(use, { signal } = {}) {
      return inFreshContext(
        async (page) => {
          const session: PageSession = { page, blocked: [] };
          // The proxy refuses what the scope does not allow; these name its refusals: an HTTP
          // request answered by the proxy's marked 403, and a request that failed on its way to a
          // destination the proxy refused (a tunnel it would not open for https or wss, a
          // cross-origin fetch whose 403 the page may not read).
          const named = new WeakSet<Request>();
          const refusedByProxy = (request: Request, reason: string) => {
            if (named.has(request)) return;
            named.add(request);
            session.blocked.push({ url: request.url(), reason, navigation: isTopNavigation(request) });
          };
          // On the context, so that popups the page opens are covered too.
          const context = page.context();
          context.on('response', (response) => {
            const reason = response.headers()[REFUSED_HEADER];
            if (reason) refusedByProxy(response.request(), reason);
          });
          const gateway = await proxy!;
          context.on('requestfailed', (request) => {
            const reason = gateway.refusalFor(destinationOf(new URL(request.url())));
            if (reason) refusedByProxy(request, reason);
          });
          return use(session);
        },
        signal,
      );
    },

    async evaluateOffline(fn, arg) {
      const running = await acquire(false);
      try {
        running.offlinePage ??= running.browser.newContext().then(async (context) => {
          await context.route('**/*', (route) => route.abort());
          return context.newPage();
        });
        const page = await running.offlinePage;
        const evaluated = await within(page.evaluate(fn, arg), settings.timeoutMs);
        if (!evaluated.done) throw new PageTimeoutError(settings.timeoutMs);
        return evaluated.value;
      } catch (err) {
        if (!running.browser.isConnected()) throw new BrowserGoneError(`the browser went away: ${String(err)}`);
        throw err;
      } finally {
        release(running);
      }
    },

    async start() {
      release(await acquire(false));
    },

    browserPid() {
      return [...live].find((running) => !running.retired)?.pid;
    },

    launches: () => launched,

    async close() {
      closed = true;
      // A launch under way shuts its browser down itself once it sees `closed`.
      await current?.catch(() => undefined);
      current = undefined;
      await Promise.all([...live].map(shutDown));
      if (proxy) await (await proxy).close();
    },
  };
}
