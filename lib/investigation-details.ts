// What the Temporal UI shows of an investigation: a one-line summary and static details set when it
// starts, current details the workflow keeps up to date, and a line for each activity and timer.
// The UI renders these as markdown, so text from an alert only ever appears inside a code span
// (lib/markdown.ts): it can make no link, image or HTML there. Pure functions: workflow code uses them.
import type { NormalizedAlert } from './alert';
import type { InvestigationProgress } from './investigation';
import { code } from './markdown';
import { issueLink, when } from './render/issue-body';

/** Resources listed in the static details before the rest are counted. */
const LISTED_RESOURCES = 10;
/** Ports listed in the current details before the rest are counted. */
const LISTED_PORTS = 5;

/**
 * The UI fills in `{namespace}`, `{workflowId}` and `{runId}` in these texts before rendering them:
 * a word joiner after the brace keeps an alert's own braces as written.
 */
const noTemplates = (text: string) => text.replace(/\{(?=(?:namespace|workflowId|runId)\})/g, '{\u2060');

/** Untrusted text as an inline code span the UI leaves alone. */
const inert = (text: string, max?: number) => noTemplates(code(text, max));

/** The one-line summary: `exposure · high · ` and the alert's title. */
export function investigationSummary(alert: Pick<NormalizedAlert, 'kind' | 'severity' | 'title'>): string {
  return `${alert.kind} · ${alert.severity} · ${inert(alert.title, 160)}`;
}

/** What the alert is, fixed at the start: where it came from and what it names (the issue is in the current details). */
export function investigationStaticDetails(alert: NormalizedAlert): string {
  const { source, kind, severity, resources, cloud, archive } = alert;
  const listed = resources.slice(0, LISTED_RESOURCES).map(({ type, id }) => `${inert(type, 60)} ${inert(id, 160)}`);
  const more = resources.length > LISTED_RESOURCES ? [`… and ${resources.length - LISTED_RESOURCES} more`] : [];
  const place = cloud ? [cloud.provider, cloud.account, cloud.region].filter((part): part is string => Boolean(part)) : [];
  return [
    `- **Source**: ${inert(source, 60)} · **Kind**: ${kind} · **Severity**: ${severity}`,
    ...(place.length > 0 ? [`- **Cloud**: ${place.map((part) => inert(part, 80)).join(' ')}`] : []),
    `- **Resources**: ${listed.length > 0 ? [...listed, ...more].join(', ') : 'none named'}`,
    `- **Archive record**: ${inert(archive.id, 200)}`,
  ].join('\n');
}

/** `22/tcp open on 2 hosts, 443/tcp open on 1 host` from endpoints that answered (`203.0.113.10:22`). */
export function openPortsWords(endpoints: readonly string[]): string {
  const hostsByPort = new Map<string, Set<string>>();
  for (const endpoint of endpoints) {
    const [, host, port] = /^(.*):(\d+)$/.exec(endpoint) ?? [];
    if (host === undefined || port === undefined) continue;
    hostsByPort.set(port, (hostsByPort.get(port) ?? new Set()).add(host));
  }
  const ports = [...hostsByPort].sort(([a], [b]) => Number(a) - Number(b));
  const words = ports.slice(0, LISTED_PORTS).map(([port, hosts]) => `${port}/tcp open on ${hosts.size} ${hosts.size === 1 ? 'host' : 'hosts'}`);
  return [...words, ...(ports.length > LISTED_PORTS ? [`${ports.length - LISTED_PORTS} more ports`] : [])].join(', ');
}

function watchWords({ exposure, watch, openEndpoints = [] }: InvestigationProgress, nextCheck: string | undefined): string | undefined {
  if (!exposure) return undefined;
  const open = openPortsWords(openEndpoints);
  // The ports that answered say more than the state (`open`), when they are what made it so.
  const found = open || exposure;
  if (!watch) return found;
  const checks = `${watch.checks} re-check${watch.checks === 1 ? '' : 's'}`;
  if (watch.state !== 'watching') return `${found} · watch ended: ${watch.state} after ${checks}`;
  return `watching: ${found} · ${checks}${nextCheck ? ` · next check ${when(nextCheck)}` : ''}`;
}

function responseWords({ response }: InvestigationProgress): string | undefined {
  if (!response) return undefined;
  const plans = response.plans.map(({ plan, state }) => `${inert(plan.id, 20)} ${state}`);
  const accepted = response.accepted ? [`risk accepted until ${inert(response.accepted.until, 20)} by ${inert(response.accepted.by, 60)}`] : [];
  const words = [...accepted, ...plans];
  return words.length > 0 ? words.join(' · ') : undefined;
}

/** Where the investigation stands, as the UI's current details: rebuilt from its progress whenever that changes. */
export function investigationCurrentDetails(progress: InvestigationProgress, { nextCheck }: { nextCheck?: string } = {}): string {
  const { issue, issueState, suppressed, verdict, occurrences, failedSteps = [] } = progress;
  const issueWords = issue ? `${issueLink(issue)} · ${suppressed ? 'silenced' : (issueState ?? 'open')}` : 'not opened yet';
  const exposure = watchWords(progress, nextCheck);
  const response = responseWords(progress);
  return [
    `- **Issue**: ${issueWords}${occurrences > 1 ? ` · seen ${occurrences} times` : ''}`,
    ...(exposure ? [`- **Exposure**: ${exposure}`] : []),
    ...(verdict ? [`- **Actors**: ${verdict}`] : []),
    ...(response ? [`- **Response**: ${response}`] : []),
    ...(failedSteps.length > 0 ? [`- **Failed steps**: ${failedSteps.map((step) => inert(step, 60)).join(', ')}`] : []),
  ].join('\n');
}

/** What an activity's input may say about what it works on (each activity takes one object). */
interface ActivityInput {
  issue?: { number?: number };
  context?: { instances?: unknown[]; exposures?: unknown[] };
  alert?: { resources?: unknown[]; network?: { ips?: unknown[] } };
  ips?: unknown[];
  domains?: unknown[];
  principals?: unknown[];
  url?: string;
  plan?: { id?: string } | string;
  entry?: { step?: string; plan?: string };
  step?: string;
}

const count = (items: unknown[] | undefined, one: string, many = `${one}s`) => `${items?.length ?? 0} ${items?.length === 1 ? one : many}`;

/** `commentExposure` → `comment exposure`. */
const words = (name: string) => name.replace(/[A-Z]/g, (letter) => ` ${letter.toLowerCase()}`);

/**
 * The one line the UI shows for an activity in the investigation's history: what it does and to
 * what, from its input. Only counts, ids Vigil made and issue numbers; a URL in a code span.
 */
export function activitySummary(name: string, input: unknown): string {
  const given = (typeof input === 'object' && input !== null ? input : {}) as ActivityInput;
  const planId = typeof given.plan === 'string' ? given.plan : given.plan?.id;
  const what = (() => {
    switch (name) {
      case 'collectContext':
        return `read the inventories for ${count(given.alert?.resources, 'resource')} and ${count(given.alert?.network?.ips, 'address', 'addresses')}`;
      case 'checkExposures':
        return `probe ${count(given.context?.exposures, 'exposure')} on ${count(given.context?.instances, 'machine')}`;
      case 'checkActors':
        return `check ${count(given.ips, 'address', 'addresses')}, ${count(given.domains, 'domain')} and ${count(given.principals, 'principal')}`;
      case 'takeScreenshot':
        return `screenshot ${inert(given.url ?? '', 200)}`;
      case 'executeRemediation':
        return `carry out remediation ${inert(planId ?? '?', 20)}`;
      case 'undoRemediation':
        return `undo remediation ${inert(planId ?? '?', 20)}`;
      case 'reportResponse':
        return `audit ${given.entry?.plan ? `${inert(given.entry.plan, 20)} ` : ''}${inert(given.entry?.step ?? 'step', 30)}`;
      case 'reportFailure':
        return `say that ${inert(given.step ?? 'a step', 60)} failed`;
      default:
        return words(name);
    }
  })();
  const issue = given.issue?.number;
  return typeof issue === 'number' ? `${what} · issue #${issue}` : what;
}

/** The line the UI shows for the main loop's wait: what ends it, at the latest. */
export function waitSummary(reason: 'next check' | 'quiet' | 'response deadline', untilMs: number): string {
  const at = when(new Date(untilMs).toISOString());
  return { 'next check': `next check ${at}`, quiet: `ends at ${at} unless the alert repeats`, 'response deadline': `a remediation request or an accepted risk runs out ${at}` }[reason];
}
