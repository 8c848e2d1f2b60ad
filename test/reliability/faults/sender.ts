// A sender as a real alert source behaves: it posts each alert until intake accepts it (202),
// retrying on connection errors, timeouts, 5xx and 429 (honouring Retry-After, capped so a test
// keeps moving), and giving up only on a 4xx other than 429 or at its deadline. It keeps the count of
// what it tried, so a test can act mid-burst and then account for every alert.
import { INTAKE_TOKEN } from './vigil-processes';

export interface OutgoingAlert {
  /** The test's name for it. */
  key: string;
  source: string;
  /** The body, sent as is. */
  body: string;
}

export interface SentAlert extends OutgoingAlert {
  /** Requests made for it. */
  attempts: number;
  /** Why each retried attempt failed: a status (`503`) or an error code (`ECONNREFUSED`, `timeout`). */
  failures: string[];
  /** The 202's body, once accepted. */
  accepted?: { archiveId: string; alerts: { id: string; fingerprint: string; workflowId: string; dispatched: boolean }[] };
  /** A final refusal (a 4xx other than 429), with its body. */
  refused?: { status: number; body: string };
}

export interface SenderOptions {
  /** Intake's base URL, read at each attempt. */
  url: string | (() => string);
  token?: string;
  /** Requests in flight at once. */
  concurrency?: number;
  /** When set, alert n is sent no earlier than n / ratePerSecond seconds after the start. */
  ratePerSecond?: number;
  /** First retry delay, doubled up to 2 s. */
  retryDelayMs?: number;
  /** Retry-After is honoured up to this. */
  maxRetryAfterMs?: number;
  /** One request's bound (then it counts as a timeout and is retried). */
  requestTimeoutMs?: number;
  /** The sender gives up on what is not accepted by then. */
  deadlineMs?: number;
}

export interface Sender {
  /** Every alert, as it stands (filled in as the sender goes). */
  sent: SentAlert[];
  accepted(): number;
  /** Requests that failed and were retried. */
  retried(): number;
  /** Resolves when every alert is accepted, refused, or given up at the deadline. */
  done: Promise<SentAlert[]>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function failureOf(err: unknown): string {
  const error = err as Error & { cause?: { code?: string }; code?: string };
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timeout';
  return error.cause?.code ?? error.code ?? error.message;
}

export function startSender(alerts: OutgoingAlert[], options: SenderOptions): Sender {
  const {
    token = INTAKE_TOKEN,
    concurrency = 8,
    ratePerSecond,
    retryDelayMs = 200,
    maxRetryAfterMs = 2000,
    requestTimeoutMs = 60_000,
    deadlineMs = 240_000,
  } = options;
  const urlOf = typeof options.url === 'string' ? () => options.url as string : options.url;
  const sent: SentAlert[] = alerts.map((alert) => ({ ...alert, attempts: 0, failures: [] }));
  const started = Date.now();
  const deadline = started + deadlineMs;
  let next = 0;

  async function deliver(alert: SentAlert): Promise<void> {
    let delay = retryDelayMs;
    while (Date.now() < deadline) {
      alert.attempts += 1;
      let wait = delay;
      try {
        const response = await fetch(`${urlOf()}/v1/alerts/${alert.source}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: alert.body,
          signal: AbortSignal.timeout(requestTimeoutMs),
        });
        const text = await response.text();
        if (response.status === 202) {
          alert.accepted = JSON.parse(text) as SentAlert['accepted'];
          return;
        }
        if (response.status < 500 && response.status !== 429) {
          alert.refused = { status: response.status, body: text };
          return;
        }
        alert.failures.push(String(response.status));
        const retryAfter = Number(response.headers.get('retry-after'));
        if (retryAfter > 0) wait = Math.min(retryAfter * 1000, maxRetryAfterMs);
      } catch (err) {
        alert.failures.push(failureOf(err));
      }
      await sleep(wait);
      delay = Math.min(delay * 2, 2000);
    }
  }

  const done = Promise.all(
    Array.from({ length: Math.min(concurrency, sent.length) }, async () => {
      while (next < sent.length) {
        const index = next++;
        if (ratePerSecond) {
          const due = started + (index * 1000) / ratePerSecond;
          if (due > Date.now()) await sleep(due - Date.now());
        }
        await deliver(sent[index]!);
      }
    }),
  ).then(() => sent);

  return {
    sent,
    accepted: () => sent.filter((alert) => alert.accepted).length,
    retried: () => sent.reduce((sum, alert) => sum + alert.failures.length, 0),
    done,
  };
}

/** A generic alert body (docs/sources.md): `id` is its identity; other fields as given. */
export const genericAlert = (id: string, extra: Record<string, unknown> = {}): OutgoingAlert => ({
  key: id,
  source: 'generic',
  body: JSON.stringify({ id, title: `Reliability alert ${id}`, severity: 'low', ...extra }),
});
