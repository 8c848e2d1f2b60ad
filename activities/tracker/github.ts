// The GitHub Issues tracker. GitHub stores only text, so Vigil's identities travel in it: an issue
// carries a fingerprint label (found by listing) and a hidden marker in its body (which confirms
// it); a comment carries a hidden marker with its key. Every method is safe to retry: nothing is
// created without looking first, and a create whose answer was lost is looked for before it is
// sent again (Octokit's automatic retries are off for creates, since they would resend blindly).
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { GitHubSettings, LabelNames } from '../../lib/config';
import { fitBody } from '../../lib/markdown';
import { commentMarker, issueMarker, parseCommentMarker, parseIssueMarker } from '../../lib/markers';
import type { BlobStore } from '../archive/records';
import {
  asHttpError,
  createGitHubClient,
  gitHubMessage,
  isRateLimit,
  mayHaveHappened,
  misconfigured,
  statusOf,
  type GitHubClientOptions,
} from './github-client';
import type { IssueRef } from '../../lib/investigation';
import type { EvidenceFile, EvidenceLink, IssueState, ListedIssue, NewIssue, Tracker } from './types';

export interface GitHubTrackerOptions extends GitHubClientOptions {
  /** The artifact store, where evidence goes when `settings.evidence.kind` is `url`. */
  artifacts?: BlobStore;
  /** How many times one call sends a create (looking again in between) before it fails for Temporal to retry. */
  createAttempts?: number;
}

interface Repo {
  owner: string;
  repo: string;
}

/** An issue as the REST API gives it (the fields read here). */
interface GitHubIssue {
  id: number;
  number: number;
  html_url: string;
  state: string;
  body?: string | null;
  labels: Array<string | { name?: string }>;
  pull_request?: unknown;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The label that finds a fingerprint's issue: constant, so renaming Vigil's other labels never loses one. */
export const fingerprintLabel = (fingerprint: string) => `vigil:fp:${sha256(fingerprint).slice(0, 12)}`;

/** GitHub refuses label names over 50 characters; a longer one is shortened, still unique. */
export function labelName(name: string): string {
  return name.length <= 50 ? name : `${name.slice(0, 41)}~${sha256(name).slice(0, 8)}`;
}

const maxTitleLength = 256;

/**
 * The text with its hidden marker at the end, cut to GitHub's limit so the marker always fits. Any
 * other marker-like text (an alert's, shown inert in a code span) is broken with a word joiner: the
 * first marker in a body is the one that identifies it.
 */
const withMarker = (text: string, marker: string) => fitBody(text.replace(marker, '').replaceAll('<!-- vigil:', '<!-- vigil\u2060:').trimEnd(), marker);

/** Where people read a GitHub instance: api.github.com → github.com, `<host>/api/v3` → `<host>`. */
export function webUrlOf(apiBaseUrl: string): string {
  const url = new URL(apiBaseUrl);
  if (url.hostname === 'api.github.com') return 'https://github.com';
  url.pathname = url.pathname.replace(/\/api\/v3\/?$/, '');
  if (url.hostname.startsWith('api.')) url.hostname = url.hostname.slice('api.'.length); // GHE.com
  return url.toString().replace(/\/+$/, '');
}

const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');
/** A file name safe in a path and in Markdown link text. */
const safeFileName = (name: string) => name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '') || 'evidence';
/** Git's id of a file's content, which the contents API reports as `sha`. */
const gitBlobSha = (data: Buffer) => createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const severityColors: Record<string, string> = { critical: 'b60205', high: 'd93f0b', medium: 'fbca04', low: '0e8a16', informational: 'c5def5' };

/** Colour and description of a label Vigil creates, so a label list reads at a glance. */
function labelStyle(name: string, names: LabelNames): { color: string; description: string } {
  if (name.startsWith('vigil:fp:')) return { color: 'ededed', description: 'Vigil: identifies the alerted-on thing (keep it)' };
  if (name.startsWith(names.severityPrefix)) return { color: severityColors[name.slice(names.severityPrefix.length)] ?? 'ededed', description: 'Vigil: severity of the alert' };
  if (name === names.exposureOpen) return { color: 'b60205', description: 'Vigil: still exposed at the last check' };
  if (name === names.exposureRemediated) return { color: '0e8a16', description: 'Vigil: no longer exposed' };
  if (name === names.suppress) return { color: '000000', description: 'Vigil comments no more on this issue' };
  if (name === names.base) return { color: '5319e7', description: 'Opened by Vigil' };
  if (name.startsWith(names.sourcePrefix)) return { color: '1d76db', description: 'Vigil: where the alert came from' };
  if (name.startsWith(names.kindPrefix)) return { color: '0052cc', description: 'Vigil: kind of alert' };
  if (name.startsWith(names.attackPrefix)) return { color: 'c2e0c6', description: 'Vigil: MITRE ATT&CK tactic or technique of a rule that found the alert' };
  return { color: 'ededed', description: 'Vigil' };
}

/** Runs the work of one key after the previous work of that key, so this process never races itself. */
function keyedQueue() {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const turn = (tails.get(key) ?? Promise.resolve()).then(work);
    const tail = turn.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => tails.get(key) === tail && tails.delete(key));
    return turn;
  };
}

export function createGitHubTracker(settings: GitHubSettings, labels: LabelNames, options: GitHubTrackerOptions = {}): Tracker {
  const { octokit, redact } = createGitHubClient(settings, options);
  const home: Repo = { owner: settings.owner, repo: settings.repo };
  const evidence = settings.evidence;
  const createAttempts = options.createAttempts ?? 3;
  const retryDelay = (attempt: number) => attempt * attempt * (options.retryBaseDelayMs ?? 1000);
  const serialized = keyedQueue();
  /** Lower-cased names of labels known to exist (or being made so), for the process's life. */
  const knownLabels = new Map<string, Promise<void>>();

  // ---- failures ----

  /** The Temporal meaning of a failure: non-retryable when only a person can fix it. */
  async function explain(err: unknown, what: string, where: Repo = home): Promise<Error> {
    if (err instanceof ApplicationFailure) return err;
    const http = asHttpError(err);
    const name = `${where.owner}/${where.repo}`;
    if (!http) return new Error(redact(`GitHub tracker: ${what} in ${name} failed: ${(err as Error)?.message ?? String(err)}`));
    const said = redact(gitHubMessage(http));
    if (http.status === 401) {
      return misconfigured(
        `GitHub refused Vigil's credentials (401 ${said}) while ${what} in ${name}: check tracker.github.auth ` +
          '(the token, or the app id, private key and installation id, may be wrong, expired or revoked)',
      );
    }
    if (isRateLimit(http)) return new Error(`GitHub rate limit while ${what} in ${name} (${http.status} ${said}); retried later`);
    if (http.status === 403 && /locked/i.test(said)) return ApplicationFailure.nonRetryable(`GitHub refused ${what} in ${name}: ${said}`, 'GitHubRejected');
    if (http.status === 403) {
      return misconfigured(
        `GitHub denied ${what} in ${name} (403 ${said}): the token or app installation needs read and write access to ` +
          `Issues${evidence.kind === 'branch' ? ` (and Contents of the evidence repository)` : ''}`,
      );
    }
    if (http.status === 404) return explainNotFound(http.request?.url ?? '', said, what, where);
    if (http.status === 410) return misconfigured(`GitHub answered 410 (${said}) while ${what} in ${name}: are issues enabled in the repository's settings?`);
    if (http.status === 400 || http.status === 422) return ApplicationFailure.nonRetryable(`GitHub rejected ${what} in ${name} (${http.status} ${said})`, 'GitHubRejected');
    return new Error(`GitHub failed ${what} in ${name} (${http.status} ${said}); retried later`);
  }

  /** A 404 is the configuration's fault when the repository (or the app installation) is not there. */
  async function explainNotFound(url: string, said: string, what: string, where: Repo): Promise<Error> {
    if (url.includes('/app/installations/')) {
      return misconfigured(`GitHub has no installation ${'installationId' in settings.auth ? settings.auth.installationId : ''} of the app: check tracker.github.auth.installationId and appId`);
    }
    try {
      await assertRepository(where);
    } catch (err) {
      return err as Error;
    }
    return ApplicationFailure.nonRetryable(`GitHub: ${what} in ${where.owner}/${where.repo}: not found (404 ${said})`, 'GitHubNotFound');
  }

  /** Throws GitHubMisconfigured when the repository is missing, or invisible to these credentials. */
  async function assertRepository(where: Repo): Promise<void> {
    try {
      await octokit.rest.repos.get({ ...where });
    } catch (err) {
      if (statusOf(err) !== 404) throw await explain(err, 'checking the repository', where);
      throw misconfigured(
        `GitHub repository ${where.owner}/${where.repo} was not found, or these credentials cannot see it: check ` +
          'tracker.github.owner and repo (or evidence.owner and repo) and that the token or app installation has access to it',
      );
    }
  }

  /** Runs one tracker call, giving its failure its Temporal meaning. */
  const guarded = async <T>(what: string, work: () => Promise<T>, where: Repo = home): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      throw await explain(err, what, where);
    }
  };

  // ---- labels ----

  async function ensureLabel(name: string): Promise<void> {
    try {
      await octokit.rest.issues.getLabel({ ...home, name });
      return;
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    try {
      await octokit.rest.issues.createLabel({ ...home, name, ...labelStyle(name, labels) });
    } catch (err) {
      // Made meanwhile (by another worker, or by our own lost attempt): it exists, as wanted.
      const data = asHttpError(err)?.response?.data as { errors?: Array<{ code?: string }> } | undefined;
      if (statusOf(err) !== 422 || !data?.errors?.some((e) => e.code === 'already_exists')) throw err;
    }
  }

  /** Creates the missing ones with Vigil's colours (GitHub would make them grey and bare). */
  async function ensureLabels(names: string[]): Promise<void> {
    await Promise.all(
      names.map((name) => {
        const key = name.toLowerCase();
        let known = knownLabels.get(key);
        if (!known) {
          known = ensureLabel(name);
          knownLabels.set(key, known);
          known.catch(() => knownLabels.delete(key));
        }
        return known;
      }),
    );
  }

  async function removeLabel(number: number, name: string): Promise<void> {
    try {
      await octokit.rest.issues.removeLabel({ ...home, issue_number: number, name });
    } catch (err) {
      // Not on the issue (any more): nothing to do. Any other 404 (no issue, no repository) is an error.
      if (!(statusOf(err) === 404 && /label does not exist/i.test(asHttpError(err)!.message))) throw err;
    }
  }

  // ---- issues ----

  /**
   * The fingerprint's issue: the lowest-numbered one carrying its label and marker. Higher ones are
   * duplicates that two workers raced into existence; they are closed and lose the label.
   */
  async function findIssue(fingerprint: string, label: string): Promise<GitHubIssue | undefined> {
    const listed = (await octokit.paginate(octokit.rest.issues.listForRepo, { ...home, labels: label, state: 'all', per_page: 100 })) as GitHubIssue[];
    const matches = listed
      .filter((issue) => !issue.pull_request && parseIssueMarker(issue.body)?.fingerprint === fingerprint)
      .sort((a, b) => a.number - b.number);
    const [canonical, ...duplicates] = matches;
    for (const duplicate of duplicates) {
      if (duplicate.state === 'open') await octokit.rest.issues.update({ ...home, issue_number: duplicate.number, state: 'closed', state_reason: 'not_planned' });
      await removeLabel(duplicate.number, label);
    }
    return canonical;
  }

  async function createIssue(input: NewIssue, label: string): Promise<{ issue: GitHubIssue; created: boolean }> {
    const issueLabels = [...new Set([...input.labels.map(labelName), label])];
    await ensureLabels(issueLabels);
    const request = {
      ...home,
      title: input.title.slice(0, maxTitleLength),
      body: withMarker(input.body, issueMarker(input.fingerprint, input.workflowId)),
      labels: issueLabels,
      request: { retries: 0 },
    };
    for (let attempt = 1; ; attempt++) {
      try {
        const { data } = await octokit.rest.issues.create(request);
        // Another worker may have created one too; the lowest number wins, for both of us.
        const canonical = (await findIssue(input.fingerprint, label)) ?? (data as GitHubIssue);
        return { issue: canonical, created: canonical.number === data.number };
      } catch (err) {
        if (!mayHaveHappened(err) || attempt >= createAttempts) throw err;
        await sleep(retryDelay(attempt));
        const found = await findIssue(input.fingerprint, label);
        if (found) return { issue: found, created: true };
      }
    }
  }

  const refOf = (issue: GitHubIssue): IssueRef => ({ number: issue.number, url: issue.html_url });
  const stateOf = (issue: GitHubIssue): 'open' | 'closed' => (issue.state === 'closed' ? 'closed' : 'open');
  const labelNamesOf = (issue: GitHubIssue) => issue.labels.flatMap((label) => (typeof label === 'string' ? [label] : label.name ? [label.name] : []));

  // ---- comments ----

  async function findComment(number: number, key: string) {
    const comments = await octokit.paginate(octokit.rest.issues.listComments, { ...home, issue_number: number, per_page: 100 });
    return comments.find((comment) => parseCommentMarker(comment.body) === key);
  }

  async function upsertComment(number: number, key: string, body: string): Promise<{ created: boolean }> {
    const text = withMarker(body, commentMarker(key));
    const update = async (comment: { id: number; body?: string }) => {
      if (comment.body !== text) await octokit.rest.issues.updateComment({ ...home, comment_id: comment.id, body: text });
    };
    const existing = await findComment(number, key);
    if (existing) {
      await update(existing);
      return { created: false };
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await octokit.rest.issues.createComment({ ...home, issue_number: number, body: text, request: { retries: 0 } });
        return { created: true };
      } catch (err) {
        if (!mayHaveHappened(err) || attempt >= createAttempts) throw err;
        await sleep(retryDelay(attempt));
        const found = await findComment(number, key);
        if (found) {
          await update(found);
          return { created: true };
        }
      }
    }
  }

  // ---- evidence ----

  async function commitEvidence(number: number, file: EvidenceFile, branch: string, where: Repo): Promise<string> {
    const path = `issues/${number}/${safeFileName(file.name)}`;
    const wanted = gitBlobSha(file.data);
    const current = async () => {
      try {
        const { data } = await octokit.rest.repos.getContent({ ...where, path, ref: branch });
        if (Array.isArray(data) || data.type !== 'file') throw misconfigured(`${path} on branch ${branch} of ${where.owner}/${where.repo} is not a file`);
        return data.sha;
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
        await assertBranch(branch, where);
        return undefined;
      }
    };
    for (let attempt = 1; ; attempt++) {
      const sha = await current();
      // Already there (a retry after a lost answer, or the same file again): nothing to commit.
      if (sha === wanted) break;
      try {
        await octokit.rest.repos.createOrUpdateFileContents({
          ...where,
          path,
          branch,
          message: `Vigil evidence for issue ${number}: ${safeFileName(file.name)}`,
          content: file.data.toString('base64'),
          ...(sha ? { sha } : {}),
        });
        break;
      } catch (err) {
        // 409/422: the file changed (or appeared) since it was read, maybe by our own lost attempt.
        const status = statusOf(err);
        if (attempt >= createAttempts || !(status === 409 || status === 422 || mayHaveHappened(err))) throw err;
      }
    }
    return `${webUrlOf(settings.baseUrl)}/${where.owner}/${where.repo}/blob/${encodePath(branch)}/${encodePath(path)}?raw=true`;
  }

  async function assertBranch(branch: string, where: Repo): Promise<void> {
    try {
      await octokit.rest.git.getRef({ ...where, ref: `heads/${branch}` });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      await assertRepository(where);
      throw misconfigured(
        `the evidence branch "${branch}" does not exist in ${where.owner}/${where.repo}: create it once, for example ` +
          `\`git switch --orphan ${branch} && git commit --allow-empty -m "Vigil evidence" && git push origin ${branch}\` ` +
          '(or set tracker.github.evidence.branch to an existing branch)',
      );
    }
  }

  async function storeEvidence(number: number, file: EvidenceFile, baseUrl: string): Promise<string> {
    if (!options.artifacts) throw misconfigured('tracker.github.evidence.kind is "url" but Vigil has no artifact store to put evidence in');
    const key = `github/${home.owner}/${home.repo}/issues/${number}/${safeFileName(file.name)}`;
    await options.artifacts.put(key, file.data, file.contentType);
    return `${baseUrl.replace(/\/+$/, '')}/${encodePath(key)}`;
  }

  return {
    findOrCreateIssue: (input) =>
      guarded('finding or opening the issue of a fingerprint', () => {
        const label = fingerprintLabel(input.fingerprint);
        return serialized(`issue:${label}`, async () => {
          const found = await findIssue(input.fingerprint, label);
          const { issue, created } = found ? { issue: found, created: false } : await createIssue(input, label);
          return { issue: refOf(issue), created, state: stateOf(issue) };
        });
      }),

    findIssue: (fingerprint) =>
      guarded('finding the issue of a fingerprint', () => {
        const label = fingerprintLabel(fingerprint);
        return serialized(`issue:${label}`, async (): Promise<IssueState | undefined> => {
          const found = await findIssue(fingerprint, label);
          return found && { number: found.number, state: stateOf(found), labels: labelNamesOf(found) };
        });
      }),

    getIssue: (number) =>
      guarded(`reading issue #${number}`, async (): Promise<IssueState> => {
        const { data } = await octokit.rest.issues.get({ ...home, issue_number: number });
        return { number: data.number, state: stateOf(data as GitHubIssue), labels: labelNamesOf(data as GitHubIssue) };
      }),

    listOpenIssues: (label) =>
      guarded(`listing the open issues labelled ${label}`, async (): Promise<ListedIssue[]> => {
        const listed = (await octokit.paginate(octokit.rest.issues.listForRepo, { ...home, labels: labelName(label), state: 'open', per_page: 100 })) as GitHubIssue[];
        const byFingerprint = new Map<string, ListedIssue>();
        for (const issue of listed.sort((a, b) => a.number - b.number)) {
          const marker = issue.pull_request ? undefined : parseIssueMarker(issue.body);
          // The lowest number is the fingerprint's issue, as findIssue has it.
          if (!marker || byFingerprint.has(marker.fingerprint)) continue;
          const body = (issue.body ?? '').replace(issueMarker(marker.fingerprint, marker.workflowId), '').trimEnd();
          byFingerprint.set(marker.fingerprint, { number: issue.number, state: 'open', labels: labelNamesOf(issue), fingerprint: marker.fingerprint, body });
        }
        return [...byFingerprint.values()];
      }),

    replaceIssueBody: (number, body) =>
      guarded(`rewriting the body of issue #${number}`, () =>
        serialized(`body:${number}`, async () => {
          // The marker as the issue carries it: it is what finds the issue again by its fingerprint.
          // The one the body ends with: an issue written before titles were broken may hold an
          // alert's marker-like text earlier on.
          const { data } = await octokit.rest.issues.get({ ...home, issue_number: number });
          const current = (data as GitHubIssue).body ?? '';
          const identity = parseIssueMarker(current.slice(current.lastIndexOf('<!-- vigil:issue ')));
          if (!identity) throw ApplicationFailure.nonRetryable(`issue #${number} has lost Vigil's hidden marker; its body is left as it is`, 'GitHubRejected');
          const text = withMarker(body, issueMarker(identity.fingerprint, identity.workflowId));
          if (text !== current) await octokit.rest.issues.update({ ...home, issue_number: number, body: text });
        }),
      ),

    reopenIssue: (number) =>
      guarded(`reopening issue #${number}`, async () => {
        await octokit.rest.issues.update({ ...home, issue_number: number, state: 'open' });
      }),

    closeIssue: (number) =>
      guarded(`closing issue #${number}`, async () => {
        await octokit.rest.issues.update({ ...home, issue_number: number, state: 'closed', state_reason: 'completed' });
      }),

    hasComment: (number, key) => guarded(`reading the comments of issue #${number}`, async () => (await findComment(number, key)) !== undefined),

    upsertComment: (number, key, body) =>
      guarded(`commenting on issue #${number}`, () => serialized(`comment:${number}:${key}`, () => upsertComment(number, key, body))),

    updateLabels: (number, { add = [], remove = [] }) =>
      guarded(`changing the labels of issue #${number}`, async () => {
        const removed = new Set(remove.map((name) => labelName(name).toLowerCase()));
        const added = [...new Set(add.map(labelName))].filter((name) => !removed.has(name.toLowerCase()));
        if (added.length) {
          await ensureLabels(added);
          await octokit.rest.issues.addLabels({ ...home, issue_number: number, labels: added });
        }
        for (const name of new Set(remove.map(labelName))) await removeLabel(number, name);
      }),

    attachEvidence: (number, file) => {
      const where = evidence.kind === 'branch' ? { owner: evidence.owner ?? home.owner, repo: evidence.repo ?? home.repo } : home;
      return guarded(
        `storing evidence ${file.name} of issue #${number}`,
        async (): Promise<EvidenceLink> => {
          const url =
            evidence.kind === 'branch' ? await commitEvidence(number, file, evidence.branch, where) : await storeEvidence(number, file, evidence.baseUrl);
          const text = safeFileName(file.name);
          return { url, markdown: file.contentType.startsWith('image/') ? `![${text}](${url})` : `[${text}](${url})` };
        },
        where,
      );
    },
  };
}
