// The issue's body: one screen that answers first, in plain words, where things stand now — the
// exposure per endpoint, the actors' verdicts, the related issues, the last and next check. It is
// rewritten as the investigation learns more (the comments below stay the history), so it says
// only the current state. Everything from an alert or a cloud API is inert (lib/markdown.ts).
import type { NormalizedAlert } from '../alert';
import type { Verdict } from '../intel';
import type { ExposureState, InvestigationProgress, RelatedInvestigation } from '../investigation';
import { code, details } from '../markdown';
import { alertSummary } from './alert-summary';

/** What the body says of the investigation: the progress it keeps, without the delivery keys. */
export type IssueBodyState = Pick<
  InvestigationProgress,
  'exposure' | 'watch' | 'verdict' | 'actorVerdicts' | 'occurrences' | 'firstSeen' | 'lastSeen' | 'lastCheck' | 'failedSteps' | 'firstReportComplete'
>;

/** The fields of the progress the body shows, and nothing else (it travels in the activity's input). */
export function issueBodyState(progress: InvestigationProgress): IssueBodyState {
  const { exposure, watch, verdict, actorVerdicts, occurrences, firstSeen, lastSeen, lastCheck, failedSteps, firstReportComplete } = progress;
  const state = { exposure, watch, verdict, actorVerdicts, occurrences, firstSeen, lastSeen, lastCheck, failedSteps, firstReportComplete };
  return Object.fromEntries(Object.entries(state).filter(([, value]) => value !== undefined)) as IssueBodyState;
}

/** One probed endpoint as the latest checks left it: `open`, `closed`, `filtered`, ... */
export interface EndpointState {
  target: string;
  status: string;
}

export interface IssueBodyInput {
  alert: NormalizedAlert;
  workflowId: string;
  state: IssueBodyState;
  /** The latest port checks, one per endpoint. */
  endpoints: readonly EndpointState[];
  /**
   * The latest look at each bucket, database, load balancer, snapshot or entry point: the inventory's
   * verdict (`public`, `private`) and each outsider's proof (`public`, `refused`…). Absent before
   * resources were read.
   */
  resources?: readonly EndpointState[];
  /** Related investigations, with their issue's state when the tracker told it. */
  related: readonly (RelatedInvestigation & { state?: 'open' | 'closed' })[];
  /** When the watch checks next, while it watches. */
  nextCheck?: string;
}

/** Endpoints and related issues listed before the rest are counted. */
const LISTED = 20;

const exposureWords: Record<ExposureState, string> = {
  open: '**open**: something answers from the internet (a port, a bucket, a URL) or is shared with everyone',
  unconfirmed: '**unconfirmed**: nothing answered, but the inventory shows it exposed or could not tell',
  none: '**none found**: nothing answers and the inventory shows no exposure',
  remediated: '**remediated**: nothing has answered for the checks the watch needs',
};

const verdictWords: Record<Verdict, string> = { malicious: '**malicious**', suspicious: '**suspicious**', 'known-benign': 'known benign', unknown: 'unknown' };

/** `2026-11-28 09:00 UTC` from an ISO time Vigil wrote. */
export const when = (iso: string) => {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? code(iso, 40) : `${new Date(time).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
};

/** A link to a related issue, when its address is one (it comes from the tracker, but the check is cheap). */
export const issueLink = ({ number, url }: { number: number; url: string }) => (/^(https?:\/\/[\w.:-]+)?\/[\w./#-]*$/.test(url) ? `[#${number}](${url})` : `#${number}`);

const more = (count: number) => (count > LISTED ? [`- … and ${count - LISTED} more`] : []);

function exposureSection({ alert, state, endpoints, resources = [] }: IssueBodyInput): string[] {
  if (alert.kind !== 'exposure') return [];
  if (!state.exposure) return ['### Exposure', '', 'Not checked yet.'];
  const order = (status: string) => (status === 'open' ? 0 : 1);
  const sorted = [...endpoints].sort((a, b) => order(a.status) - order(b.status) || a.target.localeCompare(b.target));
  const answering = endpoints.filter((endpoint) => endpoint.status === 'open').length;
  return [
    '### Exposure',
    '',
    `${exposureWords[state.exposure]}${state.lastCheck ? ` (checked ${when(state.lastCheck)})` : ''}.`,
    ...(endpoints.length > 0
      ? ['', `${answering} of ${endpoints.length} endpoint(s) answer:`, '', ...sorted.slice(0, LISTED).map(({ target, status }) => `- ${code(target, 100)} ${status === 'open' ? '**open**' : code(status, 40)}`), ...more(endpoints.length)]
      : resources.length > 0
        ? []
        : ['', 'No endpoint could be probed (see the exposure comment for why).']),
    ...(resources.length > 0
      ? ['', 'Resources, as the inventory read them and as an outsider reached them:', '', ...resources.slice(0, LISTED).map(({ target, status }) => `- ${code(target, 100)} ${status === 'public' ? '**public**' : code(status, 40)}`), ...more(resources.length)]
      : []),
  ];
}

function actorsSection({ state }: IssueBodyInput): string[] {
  const verdicts = state.actorVerdicts ?? [];
  if (verdicts.length === 0) return [];
  return [
    '### Actors',
    '',
    ...(state.verdict ? [`Worst verdict: ${verdictWords[state.verdict]}.`, ''] : []),
    ...verdicts.slice(0, LISTED).map(({ actor, verdict }) => `- ${code(actor, 200)}: ${verdictWords[verdict]}`),
    ...more(verdicts.length),
  ];
}

function relatedSection({ related }: IssueBodyInput): string[] {
  const lines = related.slice(0, LISTED).map(({ issue, title, source, kind, shared, state }) => {
    const about = shared.slice(0, 3).map((keyword) => code(keyword, 120)).join(', ');
    return `- ${issueLink(issue)} ${code(title, 160)} (${code(source, 40)} ${code(kind, 20)}, ${state ?? 'state unknown'}) — also about ${about}`;
  });
  return ['### Related investigations', '', ...(lines.length > 0 ? [...lines, ...more(related.length)] : ['None found so far: no other investigation names these resources or actors.'])];
}

function checksSection({ alert, state, nextCheck }: IssueBodyInput): string[] {
  const lines: string[] = [];
  if (state.occurrences > 0) {
    const span = state.firstSeen && state.lastSeen ? `, first ${when(state.firstSeen)}, last ${when(state.lastSeen)}` : '';
    lines.push(`- Seen ${state.occurrences} time(s)${span}.`);
  }
  if (alert.kind === 'exposure') {
    const { watch } = state;
    const last = state.lastCheck ? `Last check ${when(state.lastCheck)}` : 'Not checked yet';
    if (watch?.state === 'watching') lines.push(`- ${last}; re-checked ${watch.checks} time(s); next check ${nextCheck ? `about ${when(nextCheck)}` : 'soon'}.`);
    else lines.push(`- ${last}; ${watch ? `not watched any more (${watch.state})` : 'not watched'}.`);
  }
  if (state.failedSteps?.length) lines.push(`- Steps that failed (see the comments): ${state.failedSteps.map((step) => code(step, 40)).join(', ')}.`);
  if (!state.firstReportComplete) lines.push('- The first checks are running.');
  return lines.length > 0 ? ['### Checks', '', ...lines] : [];
}

/** The whole body: the current state first, the alert's fields folded below. */
export function currentIssueBody(input: IssueBodyInput): string {
  const { alert, workflowId } = input;
  const sections = [exposureSection(input), actorsSection(input), relatedSection(input), checksSection(input)].filter((section) => section.length > 0);
  return [
    `Vigil is investigating this ${code(alert.kind)} alert from ${code(alert.source)}: ${code(alert.title, 200)}. This summary is kept current; the comments below are the history.`,
    '',
    ...sections.flatMap((section) => [...section, '']),
    details('The alert', `${alertSummary(alert).replace(/^### .*\n\n/, '')}\n- **Investigation**: workflow ${code(workflowId)}`),
  ].join('\n');
}
