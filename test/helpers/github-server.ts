// A fake GitHub REST API on 127.0.0.1 for the GitHub tracker's tests: the operations the tracker
// uses, in memory, answered the way GitHub answers them. Every request and every answer is checked
// against GitHub's OpenAPI description (test/fixtures/github/openapi-subset.json): an invalid
// request gets GitHub's 422 and is recorded in `problems`, an invalid answer of the server's own is
// recorded there too, and tests assert `problems` is empty. Faults can be injected per route.
import { createHash, createHmac, randomBytes, randomUUID, type KeyObject, createPublicKey } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, jwtVerify } from 'jose';
import { loadGitHubOpenApi, type Operation } from './github-openapi';

export interface FakeGitHubOptions {
  /** Personal access tokens the server accepts. */
  tokens?: string[];
  /** A GitHub App whose JWTs (signed with the private key of `publicKey`) get installation tokens. */
  app?: { appId: number | string; publicKey: string | KeyObject; installationId: number };
  /** Where issues are read on the web (`html_url`); the API's own address when unset. */
  webUrl?: string;
  /** Teams and their members (`{'acme/secops': ['alice', {login: 'bob', state: 'pending'}]}`), for the team membership API. */
  teams?: Record<string, Array<string | TeamMember>>;
}

export interface TeamMember {
  login: string;
  state?: 'active' | 'pending';
  role?: 'member' | 'maintainer';
}

export type Fault =
  /** Answers with that status (500, 502, 403...) and message; nothing is done. */
  | { kind: 'error'; status: number; message?: string }
  /** GitHub's secondary rate limit (403 or 429 with `retry-after`); nothing is done. */
  | { kind: 'secondary-rate-limit'; status?: 403 | 429; retryAfter?: number }
  /** GitHub's primary rate limit (no requests left until `x-ratelimit-reset`); nothing is done. */
  | { kind: 'rate-limit'; status?: 403 | 429; resetAfter?: number }
  /**
   * The request is carried out, then the connection is cut before any answer, or (`hang`) held
   * open without one until the caller gives up.
   */
  | { kind: 'lose-answer'; hang?: boolean };

export interface RecordedRequest {
  method: string;
  path: string;
  /** The route of the operation (`/repos/{owner}/{repo}/issues`), when the subset has one. */
  route?: string;
  operationId?: string;
  query: Record<string, string>;
  body: unknown;
  /** The status answered, or `lost` when the connection was cut instead. */
  status?: number | 'lost';
  fault?: Fault['kind'];
  at: number;
}

interface IssueRecord {
  id: number;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  stateReason: 'completed' | 'reopened' | 'not_planned' | 'duplicate' | null;
  /** Label names (as created). */
  labels: string[];
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

interface CommentRecord {
  id: number;
  issueNumber: number;
  /** A person's login; Vigil's own comments have none. */
  author?: string;
  body: string;
  createdAt: string;
  updatedAt: string;
}

interface LabelRecord {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

interface FileRecord {
  content: Buffer;
  sha: string;
}

export interface RepoState {
  id: number;
  owner: string;
  name: string;
  defaultBranch: string;
  issues: Map<number, IssueRecord>;
  comments: Map<number, CommentRecord>;
  /** By lower-cased name: GitHub's label names are case-insensitive. */
  labels: Map<string, LabelRecord>;
  /** Branch → path → file. */
  branches: Map<string, Map<string, FileRecord>>;
  commits: number;
}

export interface FakeGitHub {
  /** The API's base URL (what `baseUrl` is set to). */
  url: string;
  addRepo(owner: string, name: string, options?: { branches?: string[] }): RepoState;
  repo(owner: string, name: string): RepoState;
  /** The next `times` requests of `method route` (a route of the description) meet `fault`. */
  inject(method: string, route: string, fault: Fault, times?: number): void;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  count(method: string, route: string): number;
  /** Invalid requests and invalid answers (of this server): tests assert it stays empty. */
  problems: string[];
  /** Installation tokens issued to the app. */
  installationTokens: string[];
  /** Sets the members of `org/team` (the team is created when missing). */
  setTeam(orgAndTeam: string, members: Array<string | TeamMember>): void;
  /**
   * A comment as a person writes it on GitHub: stored like any comment, and returned with its id and
   * `html_url`, for an `issue_comment` delivery about it.
   */
  addPersonComment(owner: string, name: string, issueNumber: number, login: string, body: string): { id: number; html_url: string };
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const docs = 'https://docs.github.com/rest';
const error = (status: number, message: string, extra: Record<string, unknown> = {}): Reply => ({
  status,
  body: { message, documentation_url: docs, status: String(status), ...extra },
});
const notFound = (message = 'Not Found') => error(404, message);
/** GitHub's 422: validation-error has no `status` field, but keeps the rest. */
const invalid = (message: string, errors?: Array<Record<string, unknown>>): Reply => ({
  status: 422,
  body: { message, documentation_url: docs, ...(errors ? { errors } : {}) },
});

const gitBlobSha = (content: Buffer) =>
  createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
const isBase64 = (text: string) => /^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(text);

/** Compiled once per process: compiling GitHub's schemas takes a moment. */
let compiledApi: ReturnType<typeof loadGitHubOpenApi> | undefined;

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const api = (compiledApi ??= loadGitHubOpenApi());
  const repos = new Map<string, RepoState>();
  const tokens = new Set(options.tokens ?? []);
  const installationTokens: string[] = [];
  const faults: Array<{ method: string; route: string; fault: Fault; remaining: number }> = [];
  const requests: RecordedRequest[] = [];
  const problems: string[] = [];
  const appKey = options.app && (typeof options.app.publicKey === 'string' ? createPublicKey(options.app.publicKey) : options.app.publicKey);
  /** `org/team` (lower-cased) → lower-cased login → membership: GitHub's names are case-insensitive. */
  const teams = new Map<string, Map<string, TeamMember>>();
  const setTeam = (orgAndTeam: string, members: Array<string | TeamMember>) =>
    teams.set(
      orgAndTeam.toLowerCase(),
      new Map(members.map((member) => (typeof member === 'string' ? { login: member } : member)).map((member) => [member.login.toLowerCase(), member])),
    );
  for (const [team, members] of Object.entries(options.teams ?? {})) setTeam(team, members);
  let nextId = 1000;
  const newId = () => nextId++;
  const now = () => new Date().toISOString();

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      problems.push(`server error on ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const webUrl = options.webUrl ?? url;

  // ---- JSON shapes, as GitHub answers them ----

  /** An account as GitHub shows it: Vigil's bot user, or a person. */
  const account = (login: string, id: number, type: 'Bot' | 'User') => {
    // An app's login (`vigil[bot]`) as its URLs have it.
    const path = encodeURIComponent(login);
    return {
      login,
      id,
      node_id: `MDQ6VXNlcj${id}`,
      avatar_url: `${webUrl}/avatars/${path}`,
      gravatar_id: '',
      url: `${url}/users/${path}`,
      html_url: `${webUrl}/${path}`,
      followers_url: `${url}/users/${path}/followers`,
      following_url: `${url}/users/${path}/following{/other_user}`,
      gists_url: `${url}/users/${path}/gists{/gist_id}`,
      starred_url: `${url}/users/${path}/starred{/owner}{/repo}`,
      subscriptions_url: `${url}/users/${path}/subscriptions`,
      organizations_url: `${url}/users/${path}/orgs`,
      repos_url: `${url}/users/${path}/repos`,
      events_url: `${url}/users/${path}/events{/privacy}`,
      received_events_url: `${url}/users/${path}/received_events`,
      type,
      site_admin: false,
    };
  };
  const user = { ...account('vigil-bot', 1, 'Bot'), node_id: 'MDQ6VXNlcjE=' };
  const repoUrl = (repo: RepoState) => `${url}/repos/${repo.owner}/${repo.name}`;

  const labelJson = (repo: RepoState, label: LabelRecord) => ({
    id: label.id,
    node_id: `LA_${label.id}`,
    url: `${repoUrl(repo)}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    description: label.description,
    color: label.color,
    default: false,
  });

  const issueJson = (repo: RepoState, issue: IssueRecord) => {
    const self = `${repoUrl(repo)}/issues/${issue.number}`;
    return {
      id: issue.id,
      node_id: `I_${issue.id}`,
      url: self,
      repository_url: repoUrl(repo),
      labels_url: `${self}/labels{/name}`,
      comments_url: `${self}/comments`,
      events_url: `${self}/events`,
      html_url: `${webUrl}/${repo.owner}/${repo.name}/issues/${issue.number}`,
      number: issue.number,
      state: issue.state,
      state_reason: issue.stateReason,
      title: issue.title,
      body: issue.body,
      user,
      labels: issue.labels.map((name) => labelJson(repo, repo.labels.get(name.toLowerCase())!)),
      assignee: null,
      assignees: [],
      milestone: null,
      locked: false,
      active_lock_reason: null,
      comments: [...repo.comments.values()].filter((comment) => comment.issueNumber === issue.number).length,
      closed_at: issue.closedAt,
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
      author_association: 'NONE',
    };
  };

  const commentHtmlUrl = (repo: RepoState, comment: CommentRecord) => `${webUrl}/${repo.owner}/${repo.name}/issues/${comment.issueNumber}#issuecomment-${comment.id}`;

  const commentJson = (repo: RepoState, comment: CommentRecord) => ({
    id: comment.id,
    node_id: `IC_${comment.id}`,
    url: `${repoUrl(repo)}/issues/comments/${comment.id}`,
    html_url: commentHtmlUrl(repo, comment),
    issue_url: `${repoUrl(repo)}/issues/${comment.issueNumber}`,
    body: comment.body,
    user: comment.author ? account(comment.author, 2, 'User') : user,
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    author_association: 'NONE',
  });

  const fileLinks = (repo: RepoState, branch: string, filePath: string, file: FileRecord) => {
    const self = `${repoUrl(repo)}/contents/${filePath}?ref=${encodeURIComponent(branch)}`;
    const git = `${repoUrl(repo)}/git/blobs/${file.sha}`;
    const html = `${webUrl}/${repo.owner}/${repo.name}/blob/${branch}/${filePath}`;
    return { url: self, git_url: git, html_url: html, _links: { self, git, html } };
  };

  const contentJson = (repo: RepoState, branch: string, filePath: string, file: FileRecord) => ({
    type: 'file',
    encoding: 'base64',
    size: file.content.length,
    name: filePath.split('/').at(-1)!,
    path: filePath,
    // GitHub wraps the base64 text at 60 characters.
    content: (file.content.toString('base64').match(/.{1,60}/g) ?? []).join('\n') + '\n',
    sha: file.sha,
    download_url: `${webUrl}/${repo.owner}/${repo.name}/raw/${branch}/${filePath}`,
    ...fileLinks(repo, branch, filePath, file),
  });

  const repositoryJson = (repo: RepoState) => {
    const self = repoUrl(repo);
    const urls = Object.fromEntries(
      [
        'archive_url:/{archive_format}{/ref}', 'assignees_url:/assignees{/user}', 'blobs_url:/git/blobs{/sha}',
        'branches_url:/branches{/branch}', 'collaborators_url:/collaborators{/collaborator}', 'comments_url:/comments{/number}',
        'commits_url:/commits{/sha}', 'compare_url:/compare/{base}...{head}', 'contents_url:/contents/{+path}',
        'contributors_url:/contributors', 'deployments_url:/deployments', 'downloads_url:/downloads', 'events_url:/events',
        'forks_url:/forks', 'git_commits_url:/git/commits{/sha}', 'git_refs_url:/git/refs{/sha}', 'git_tags_url:/git/tags{/sha}',
        'hooks_url:/hooks', 'issue_comment_url:/issues/comments{/number}', 'issue_events_url:/issues/events{/number}',
        'issues_url:/issues{/number}', 'keys_url:/keys{/key_id}', 'labels_url:/labels{/name}', 'languages_url:/languages',
        'merges_url:/merges', 'milestones_url:/milestones{/number}', 'notifications_url:/notifications{?since,all,participating}',
        'pulls_url:/pulls{/number}', 'releases_url:/releases{/id}', 'stargazers_url:/stargazers', 'statuses_url:/statuses/{sha}',
        'subscribers_url:/subscribers', 'subscription_url:/subscription', 'tags_url:/tags', 'teams_url:/teams', 'trees_url:/git/trees{/sha}',
      ].map((entry) => {
        const [key, suffix] = entry.split(':') as [string, string];
        return [key, `${self}${suffix}`];
      }),
    );
    const open = [...repo.issues.values()].filter((issue) => issue.state === 'open').length;
    const created = '2024-01-01T00:00:00Z';
    return {
      ...urls,
      id: repo.id,
      node_id: `R_${repo.id}`,
      name: repo.name,
      full_name: `${repo.owner}/${repo.name}`,
      owner: { ...user, login: repo.owner },
      private: true,
      html_url: `${webUrl}/${repo.owner}/${repo.name}`,
      description: null,
      fork: false,
      url: self,
      clone_url: `${webUrl}/${repo.owner}/${repo.name}.git`,
      git_url: `git://127.0.0.1/${repo.owner}/${repo.name}.git`,
      ssh_url: `git@127.0.0.1:${repo.owner}/${repo.name}.git`,
      svn_url: `${webUrl}/${repo.owner}/${repo.name}`,
      mirror_url: null,
      homepage: null,
      language: null,
      default_branch: repo.defaultBranch,
      forks: 0,
      forks_count: 0,
      stargazers_count: 0,
      watchers: 0,
      watchers_count: 0,
      size: 0,
      open_issues: open,
      open_issues_count: open,
      has_issues: true,
      has_projects: false,
      has_wiki: false,
      has_pages: false,
      has_discussions: false,
      archived: false,
      disabled: false,
      license: null,
      pushed_at: created,
      created_at: created,
      updated_at: created,
      network_count: 0,
      subscribers_count: 0,
    };
  };

  // ---- helpers of the handlers ----

  /** One page of `items` and GitHub's Link header for the others. */
  const paginate = <T>(items: T[], query: Record<string, unknown>, pathname: string) => {
    const perPage = Math.min(Math.max(Number(query.per_page ?? 30), 1), 100);
    const page = Math.max(Number(query.page ?? 1), 1);
    const last = Math.max(Math.ceil(items.length / perPage), 1);
    const link = (n: number, rel: string) => {
      const params = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
      params.set('page', String(n));
      params.set('per_page', String(perPage));
      return `<${url}${pathname}?${params}>; rel="${rel}"`;
    };
    const links = [
      ...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []),
      ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : []),
    ];
    return { items: items.slice((page - 1) * perPage, page * perPage), headers: links.length ? { link: links.join(', ') } : undefined };
  };

  /** The label of that name, created as GitHub does when an issue is given one that is missing. */
  const labelFor = (repo: RepoState, name: string): LabelRecord => {
    const key = name.toLowerCase();
    let label = repo.labels.get(key);
    if (!label) {
      label = { id: newId(), name, color: 'ededed', description: null };
      repo.labels.set(key, label);
    }
    return label;
  };
  const labelNames = (value: unknown): string[] => {
    const list = Array.isArray(value) ? value : isRecord(value) && Array.isArray(value.labels) ? value.labels : typeof value === 'string' ? [value] : [];
    return list.map((item: unknown) => (isRecord(item) ? String(item.name) : String(item)));
  };
  const setLabels = (repo: RepoState, issue: IssueRecord, names: string[]) => {
    const seen = new Set<string>();
    issue.labels = names
      .map((name) => labelFor(repo, name).name)
      .filter((name) => !seen.has(name.toLowerCase()) && seen.add(name.toLowerCase()));
  };
  const issueLabelsJson = (repo: RepoState, issue: IssueRecord) => issue.labels.map((name) => labelJson(repo, repo.labels.get(name.toLowerCase())!));

  // ---- the operations ----

  type Context = { repo: RepoState; params: Record<string, string>; query: Record<string, unknown>; body: any; pathname: string };
  const handlers: Record<string, (context: Context) => Reply> = {
    'repos/get': ({ repo }) => ({ status: 200, body: repositoryJson(repo) }),

    'issues/list-for-repo': ({ repo, query, pathname }) => {
      const state = (query.state as string | undefined) ?? 'open';
      const wanted = typeof query.labels === 'string' ? query.labels.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean) : [];
      const direction = query.direction === 'asc' ? 1 : -1;
      const issues = [...repo.issues.values()]
        .filter((issue) => state === 'all' || issue.state === state)
        .filter((issue) => wanted.every((name) => issue.labels.some((label) => label.toLowerCase() === name)))
        .sort((a, b) => direction * (a.number - b.number));
      const page = paginate(issues, query, pathname);
      return { status: 200, body: page.items.map((issue) => issueJson(repo, issue)), headers: page.headers };
    },

    'issues/create': ({ repo, body }) => {
      const at = now();
      const issue: IssueRecord = {
        id: newId(),
        number: repo.issues.size + 1,
        title: String(body.title),
        body: body.body ?? null,
        state: 'open',
        stateReason: null,
        labels: [],
        createdAt: at,
        updatedAt: at,
        closedAt: null,
      };
      setLabels(repo, issue, labelNames(body.labels ?? []));
      repo.issues.set(issue.number, issue);
      return { status: 201, body: issueJson(repo, issue), headers: { location: `${repoUrl(repo)}/issues/${issue.number}` } };
    },

    'issues/get': ({ repo, params }) => {
      const issue = repo.issues.get(Number(params.issue_number));
      return issue ? { status: 200, body: issueJson(repo, issue) } : notFound();
    },

    'issues/update': ({ repo, params, body }) => {
      const issue = repo.issues.get(Number(params.issue_number));
      if (!issue) return notFound();
      if (body.title !== undefined && body.title !== null) issue.title = String(body.title);
      if (body.body !== undefined) issue.body = body.body;
      if (body.labels !== undefined) setLabels(repo, issue, labelNames(body.labels));
      if (body.state && body.state !== issue.state) {
        issue.state = body.state;
        issue.closedAt = body.state === 'closed' ? now() : null;
        issue.stateReason = body.state === 'closed' ? (body.state_reason ?? 'completed') : 'reopened';
      }
      issue.updatedAt = now();
      return { status: 200, body: issueJson(repo, issue) };
    },

    'issues/list-comments': ({ repo, params, query, pathname }) => {
      const number = Number(params.issue_number);
      if (!repo.issues.has(number)) return notFound();
      const comments = [...repo.comments.values()].filter((comment) => comment.issueNumber === number).sort((a, b) => a.id - b.id);
      const page = paginate(comments, query, pathname);
      return { status: 200, body: page.items.map((comment) => commentJson(repo, comment)), headers: page.headers };
    },

    'issues/create-comment': ({ repo, params, body }) => {
      const number = Number(params.issue_number);
      if (!repo.issues.has(number)) return notFound();
      const at = now();
      const comment: CommentRecord = { id: newId(), issueNumber: number, body: body.body, createdAt: at, updatedAt: at };
      repo.comments.set(comment.id, comment);
      return { status: 201, body: commentJson(repo, comment), headers: { location: `${repoUrl(repo)}/issues/comments/${comment.id}` } };
    },

    'issues/update-comment': ({ repo, params, body }) => {
      const comment = repo.comments.get(Number(params.comment_id));
      if (!comment) return notFound();
      comment.body = body.body;
      comment.updatedAt = now();
      return { status: 200, body: commentJson(repo, comment) };
    },

    'issues/get-label': ({ repo, params }) => {
      const label = repo.labels.get(params.name!.toLowerCase());
      return label ? { status: 200, body: labelJson(repo, label) } : notFound();
    },

    'issues/create-label': ({ repo, body }) => {
      const name = String(body.name);
      if (repo.labels.has(name.toLowerCase())) {
        return invalid('Validation Failed', [{ resource: 'Label', code: 'already_exists', field: 'name' }]);
      }
      if (name.length > 50) return invalid('Validation Failed', [{ resource: 'Label', code: 'custom', field: 'name', message: 'name is too long (maximum is 50 characters)' }]);
      const color = String(body.color ?? 'ededed').replace(/^#/, '');
      if (!/^[0-9a-fA-F]{6}$/.test(color)) return invalid('Validation Failed', [{ resource: 'Label', code: 'invalid', field: 'color' }]);
      const label: LabelRecord = { id: newId(), name, color, description: body.description ?? null };
      repo.labels.set(name.toLowerCase(), label);
      return { status: 201, body: labelJson(repo, label), headers: { location: labelJson(repo, label).url } };
    },

    'issues/add-labels': ({ repo, params, body }) => {
      const issue = repo.issues.get(Number(params.issue_number));
      if (!issue) return notFound();
      setLabels(repo, issue, [...issue.labels, ...labelNames(body)]);
      issue.updatedAt = now();
      return { status: 200, body: issueLabelsJson(repo, issue) };
    },

    'issues/remove-label': ({ repo, params }) => {
      const issue = repo.issues.get(Number(params.issue_number));
      if (!issue) return notFound();
      const key = params.name!.toLowerCase();
      if (!issue.labels.some((name) => name.toLowerCase() === key)) return notFound('Label does not exist');
      issue.labels = issue.labels.filter((name) => name.toLowerCase() !== key);
      issue.updatedAt = now();
      return { status: 200, body: issueLabelsJson(repo, issue) };
    },

    'git/get-ref': ({ repo, params }) => {
      const branch = /^heads\/(.+)$/.exec(params.ref!)?.[1];
      if (!branch || !repo.branches.has(branch)) return notFound();
      const sha = createHash('sha1').update(`${branch}:${repo.commits}`).digest('hex');
      return {
        status: 200,
        body: { ref: `refs/${params.ref}`, node_id: `REF_${branch}`, url: `${repoUrl(repo)}/git/refs/${params.ref}`, object: { type: 'commit', sha, url: `${repoUrl(repo)}/git/commits/${sha}` } },
      };
    },

    'repos/get-content': ({ repo, params, query }) => {
      const branch = (query.ref as string | undefined) ?? repo.defaultBranch;
      const files = repo.branches.get(branch);
      if (!files) return notFound(`No commit found for the ref ${branch}`);
      const file = files.get(params.path!);
      return file ? { status: 200, body: contentJson(repo, branch, params.path!, file) } : notFound();
    },

    'repos/create-or-update-file-contents': ({ repo, params, body }) => {
      const branch = (body.branch as string | undefined) ?? repo.defaultBranch;
      const files = repo.branches.get(branch);
      if (!files) return notFound(`Branch ${branch} not found`);
      if (!isBase64(body.content)) return invalid('content is not valid Base64');
      const existing = files.get(params.path!);
      if (existing && body.sha === undefined) return invalid('Invalid request.\n\n"sha" wasn\'t supplied.');
      if (existing && body.sha !== existing.sha) return error(409, `${params.path} does not match ${body.sha}`);
      const content = Buffer.from(body.content, 'base64');
      const file: FileRecord = { content, sha: gitBlobSha(content) };
      files.set(params.path!, file);
      repo.commits += 1;
      const commitSha = createHash('sha1').update(`${branch}:${repo.commits}`).digest('hex');
      const links = fileLinks(repo, branch, params.path!, file);
      return {
        status: existing ? 200 : 201,
        body: {
          content: { name: params.path!.split('/').at(-1), path: params.path, sha: file.sha, size: content.length, type: 'file', download_url: `${webUrl}/${repo.owner}/${repo.name}/raw/${branch}/${params.path}`, ...links },
          commit: { sha: commitSha, node_id: `C_${commitSha}`, url: `${repoUrl(repo)}/git/commits/${commitSha}`, html_url: `${webUrl}/${repo.owner}/${repo.name}/commit/${commitSha}`, message: body.message, parents: [], tree: { sha: commitSha, url: `${repoUrl(repo)}/git/trees/${commitSha}` } },
        },
      };
    },
  };

  // ---- authentication ----

  async function installationToken(req: IncomingMessage, params: Record<string, string>): Promise<Reply> {
    const jwt = /^bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!options.app || !appKey || !jwt) return error(401, 'A JSON web token could not be decoded');
    try {
      // GitHub App ids may be numbers or client ids; the JWT carries either, as given.
      await jwtVerify(jwt, appKey, { algorithms: ['RS256'] });
      if (String(decodeJwt(jwt).iss) !== String(options.app.appId)) return error(401, "'Issuer' claim ('iss') must be an Integer");
    } catch (err) {
      return error(401, `A JSON web token could not be decoded (${(err as Error).message})`);
    }
    if (Number(params.installation_id) !== options.app.installationId) return notFound();
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    tokens.add(token);
    installationTokens.push(token);
    return { status: 201, body: { token, expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: { issues: 'write', contents: 'write' }, repository_selection: 'all' } };
  }

  const authorized = (req: IncomingMessage) => {
    const token = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    return token !== undefined && tokens.has(token);
  };

  // ---- one request ----

  const faultFor = (method: string, route: string) => {
    const entry = faults.find((f) => f.method === method && f.route === route && f.remaining > 0);
    if (entry) entry.remaining -= 1;
    return entry?.fault;
  };

  function faultReply(fault: Fault): Reply | undefined {
    if (fault.kind === 'error') return error(fault.status, fault.message ?? (fault.status >= 500 ? 'Server Error' : 'Error'));
    if (fault.kind === 'secondary-rate-limit') {
      const reply = error(fault.status ?? 403, 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.');
      return { ...reply, headers: { 'retry-after': String(fault.retryAfter ?? 1) } };
    }
    if (fault.kind === 'rate-limit') {
      const reply = error(fault.status ?? 403, 'API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID.');
      const reset = Math.ceil(Date.now() / 1000) + (fault.resetAfter ?? 1);
      return { ...reply, headers: { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-used': '5000', 'x-ratelimit-reset': String(reset) } };
    }
    return undefined;
  }

  async function readBody(req: IncomingMessage): Promise<{ body?: unknown; malformed?: boolean }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (!text) return {};
    try {
      return { body: JSON.parse(text) };
    } catch {
      return { malformed: true };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const method = req.method ?? 'GET';
    const target = new URL(req.url ?? '/', url);
    const query = Object.fromEntries(target.searchParams);
    const { body, malformed } = await readBody(req);
    const matched = api.match(method, target.pathname);
    const record: RecordedRequest = { method, path: target.pathname, query, body, at: Date.now(), route: matched?.operation.route, operationId: matched?.operation.operationId };
    requests.push(record);

    const send = (reply: Reply, operation?: Operation) => {
      const problemsOfReply = operation ? operation.checkResponse(reply.status, reply.body) : [];
      problems.push(...problemsOfReply.map((p) => `invalid answer to ${method} ${target.pathname}: ${p}`));
      record.status = reply.status;
      const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
      res.writeHead(reply.status, { ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...reply.headers });
      res.end(text);
    };

    if (!matched) {
      problems.push(`no operation of the OpenAPI subset for ${method} ${target.pathname}`);
      return send(notFound());
    }
    const { operation, params } = matched;
    const fault = faultFor(method, operation.route);
    record.fault = fault?.kind;
    const injected = fault && faultReply(fault);
    if (injected) return send(injected, operation);

    if (malformed) return send(error(400, 'Problems parsing JSON'), operation);
    const coerced: Record<string, unknown> = { ...params };
    const requestProblems = [...operation.checkParameters(coerced, query), ...operation.checkBody(body)];
    if (requestProblems.length) {
      problems.push(...requestProblems.map((p) => `invalid request ${method} ${target.pathname}: ${p}`));
      return send(invalid(`Invalid request.\n\n${requestProblems.join('\n')}`), operation);
    }

    let reply: Reply;
    if (operation.operationId === 'apps/create-installation-access-token') {
      reply = await installationToken(req, params);
    } else if (!authorized(req)) {
      reply = error(401, 'Bad credentials');
    } else if (operation.operationId === 'teams/get-membership-for-user-in-org') {
      const member = teams.get(`${params.org}/${params.team_slug}`.toLowerCase())?.get(params.username!.toLowerCase());
      reply = member
        ? {
            status: 200,
            body: {
              url: `${url}/organizations/1/team/1/memberships/${member.login}`,
              role: member.role ?? 'member',
              state: member.state ?? 'active',
            },
          }
        : // GitHub's 404 here has no body.
          { status: 404 };
    } else {
      const repo = repos.get(`${params.owner}/${params.repo}`.toLowerCase());
      const handler = handlers[operation.operationId];
      if (!handler) throw new Error(`no handler for ${operation.operationId}`);
      reply = repo ? handler({ repo, params, query, body, pathname: target.pathname }) : notFound();
    }

    if (fault?.kind === 'lose-answer') {
      // Done, but the caller never hears of it: the connection is cut before any byte is sent.
      operation.checkResponse(reply.status, reply.body).forEach((p) => problems.push(`invalid answer to ${method} ${target.pathname}: ${p}`));
      record.status = 'lost';
      if (!fault.hang) req.socket.destroy();
      return;
    }
    send(reply, operation);
  }

  return {
    url,
    addRepo(owner, name, { branches = ['main'] } = {}) {
      const repo: RepoState = {
        id: newId(),
        owner,
        name,
        defaultBranch: branches[0] ?? 'main',
        issues: new Map(),
        comments: new Map(),
        labels: new Map(),
        branches: new Map(branches.map((branch) => [branch, new Map()])),
        commits: 0,
      };
      repos.set(`${owner}/${name}`.toLowerCase(), repo);
      return repo;
    },
    repo(owner, name) {
      const repo = repos.get(`${owner}/${name}`.toLowerCase());
      if (!repo) throw new Error(`no repository ${owner}/${name} on the fake GitHub`);
      return repo;
    },
    inject(method, route, fault, times = 1) {
      if (!api.operations.some((operation) => operation.method === method && operation.route === route)) {
        throw new Error(`${method} ${route} is not an operation of the OpenAPI subset`);
      }
      faults.push({ method, route, fault, remaining: times });
    },
    setTeam,
    addPersonComment(owner, name, issueNumber, login, body) {
      const repo = repos.get(`${owner}/${name}`.toLowerCase());
      if (!repo?.issues.has(issueNumber)) throw new Error(`no issue ${owner}/${name}#${issueNumber} on the fake GitHub`);
      const at = now();
      const comment: CommentRecord = { id: newId(), issueNumber, author: login, body, createdAt: at, updatedAt: at };
      repo.comments.set(comment.id, comment);
      return { id: comment.id, html_url: commentHtmlUrl(repo, comment) };
    },
    requests,
    count: (method, route) => requests.filter((request) => request.method === method && request.route === route).length,
    problems,
    installationTokens,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Vigil's `tracker` settings for the repository `acme/security` on a local GitHub at `baseUrl`, its
 * token (and webhook secret, when given) read from the named environment variables.
 */
export function githubTrackerSettings(baseUrl: string, env: { token: string; webhookSecret?: string }) {
  return {
    kind: 'github',
    github: {
      owner: 'acme',
      repo: 'security',
      baseUrl,
      auth: { token: { env: env.token } },
      ...(env.webhookSecret ? { webhookSecret: { env: env.webhookSecret } } : {}),
    },
  };
}

/** A webhook delivery to intake as GitHub sends it, signed with `secret` (X-Hub-Signature-256). */
export function sendWebhook(intakeUrl: string, event: string, payload: object, secret: string, deliveryId: string = randomUUID()): Promise<Response> {
  const body = JSON.stringify(payload);
  return fetch(`${intakeUrl}/v1/github/webhook`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
    body,
  });
}

/** A person's GitHub user id: one per login (case aside), as GitHub's ids are one per account. */
export const githubUserId = (login: string) => Number.parseInt(createHash('sha256').update(login.toLowerCase()).digest('hex').slice(0, 8), 16);

/**
 * The `issue_comment` (created) event GitHub sends when a person comments on an issue: the fields
 * GitHub's payload has that Vigil reads, with the comment as `addPersonComment` stored it.
 */
export function issueCommentEvent(
  repo: RepoState,
  issueNumber: number,
  comment: { id: number; html_url: string },
  login: string,
  body: string,
  userType: 'User' | 'Bot' = 'User',
) {
  const issue = repo.issues.get(issueNumber);
  if (!issue) throw new Error(`no issue #${issueNumber} in ${repo.owner}/${repo.name}`);
  const person = { login, id: githubUserId(login), type: userType };
  return {
    action: 'created',
    issue: { number: issue.number, title: issue.title, state: issue.state, body: issue.body, labels: issue.labels.map((name) => ({ name })) },
    comment: { id: comment.id, html_url: comment.html_url, body, user: person, author_association: 'MEMBER' },
    repository: { name: repo.name, full_name: `${repo.owner}/${repo.name}`, owner: { login: repo.owner } },
    sender: person,
  };
}
