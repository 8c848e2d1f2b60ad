// Vigil's configuration: one YAML (or JSON) file plus environment overrides, validated at start.
// Every object is strict, so a misspelt key is an error that names it rather than a silent no-op.
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import ipaddr from 'ipaddr.js';
import { selectProfile } from './profiles';

const port = z.int().min(1).max(65535);

/** A secret in the file, or (better) the name of the environment variable that holds it. */
export const secretSchema = z.union([z.string().min(16, 'use at least 16 characters'), z.strictObject({ env: z.string().min(1) })]);
export type SecretSetting = z.infer<typeof secretSchema>;

/**
 * Each PEM from a file (`…File`) or as text (`ca`, `cert`, `key`: in the file, or `{env: NAME}`), not
 * both. A certificate without its key is refused where the connection is made (lib/temporal-connection.ts):
 * each of the pair may come from its own environment variable.
 */
const temporalTlsSchema = z
  .strictObject({
    /** The CA that signed the server's certificate, when the system does not trust it already. */
    caFile: z.string().min(1).optional(),
    ca: z.union([z.string().min(1), z.strictObject({ env: z.string().min(1) })]).optional(),
    /** The client certificate and its private key, for a cluster that asks for one (mutual TLS). */
    certFile: z.string().min(1).optional(),
    cert: z.union([z.string().min(1), z.strictObject({ env: z.string().min(1) })]).optional(),
    keyFile: z.string().min(1).optional(),
    key: secretSchema.optional(),
    /** The name the server's certificate must carry, when not the host of `temporal.address`. */
    serverName: z.string().min(1).optional(),
  })
  .superRefine((tls, context) => {
    for (const [file, text] of [['caFile', 'ca'], ['certFile', 'cert'], ['keyFile', 'key']] as const) {
      if (tls[file] !== undefined && tls[text] !== undefined) context.addIssue({ code: 'custom', path: [text], message: `give ${file} or ${text}, not both` });
    }
  });

const temporalSchema = z.strictObject({
  address: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'expected host:port, for example 127.0.0.1:7233')
    .default('127.0.0.1:7233'),
  namespace: z.string().min(1).default('default'),
  taskQueue: z.string().min(1).default('vigil'),
  /** Port of the web UI when `vigil dev` starts the dev server itself. */
  uiPort: port.default(8233),
  /** `true` for TLS with the system's CAs; an object for a CA, a client certificate or a server name of its own. */
  tls: z.union([z.boolean(), temporalTlsSchema]).optional(),
  /** A Temporal Cloud API key, sent as `Authorization: Bearer`; implies TLS. */
  apiKey: secretSchema.optional(),
}).refine((temporal) => !(temporal.apiKey && temporal.tls === false), {
  path: ['tls'],
  message: 'an API key is only sent over TLS: remove `tls: false` (an API key turns TLS on by itself)',
});

const authMethodSchema = z.discriminatedUnion('kind', [
  /** `Authorization: Bearer <intake token>`. */
  z.strictObject({ kind: z.literal('bearer') }),
  /** A key in a header of its own, as EventBridge API destinations send it. */
  z.strictObject({ kind: z.literal('api-key'), header: z.string().min(1).default('x-api-key'), key: secretSchema }),
  /** HMAC-SHA256 over `<timestamp>.<body>`, refused outside the tolerance window. */
  z.strictObject({
    kind: z.literal('hmac'),
    secret: secretSchema,
    signatureHeader: z.string().min(1).default('x-vigil-signature'),
    timestampHeader: z.string().min(1).default('x-vigil-timestamp'),
    toleranceSeconds: z.int().min(1).max(3600).default(300),
  }),
  /** The OIDC token Pub/Sub push subscriptions send. */
  z.strictObject({
    kind: z.literal('pubsub-oidc'),
    audience: z.string().min(1),
    /** Required: Google signs a token with any audience for any service account, so the audience alone admits anyone's. */
    serviceAccountEmail: z.email({
      error: (issue) =>
        issue.input === undefined ? "required: the push subscription's service account, so that only its tokens are accepted" : undefined,
    }),
    issuers: z.array(z.string().min(1)).min(1).default(['https://accounts.google.com', 'accounts.google.com']),
    jwksUrl: z.url().default('https://www.googleapis.com/oauth2/v3/certs'),
  }),
]);
export type AuthMethod = z.infer<typeof authMethodSchema>;

const sourceSettingsSchema = z.strictObject({
  /** Largest accepted body (compressed, as sent); defaults to intake.maxBodyBytes. */
  maxBodyBytes: z.int().min(1024).optional(),
  /** Accepted credentials (any one suffices); defaults to the intake bearer token. */
  auth: z.array(authMethodSchema).min(1).optional(),
  /** CloudTrail and gcp-audit only: built-in rules to turn off (docs/sources.md lists them). */
  disabledRules: z.array(z.string().min(1)).optional(),
});
export type SourceSettings = z.infer<typeof sourceSettingsSchema>;

/** A proxy's address or range, or one of the names `loopback`, `linklocal`, `uniquelocal` (Fastify's trustProxy). */
const proxyAddress = z
  .string()
  .refine(
    (text) => ['loopback', 'linklocal', 'uniquelocal'].includes(text) || ipaddr.isValid(text) || ipaddr.isValidCIDR(text),
    'expected an address or CIDR range of the proxy, or loopback, linklocal or uniquelocal',
  );

/** A queue intake reads instead of waiting to be sent to (docs/intake.md). */
const queueSchema = z.discriminatedUnion('kind', [
  /**
   * S3 event notifications of a CloudTrail trail's bucket, delivered to SQS directly, through SNS or
   * through EventBridge: each new log file is read from the bucket and its records judged by the rules.
   */
  z.strictObject({
    kind: z.literal('s3-sqs'),
    queueUrl: z.url(),
    /** The queue's region, which is its bucket's. */
    region: z.string().min(1),
    /** For emulators and tests: the endpoint of both SQS and S3. */
    endpoint: z.url().optional(),
    forcePathStyle: z.boolean().default(false),
    /** Long polling: how long one receive waits for a message. */
    waitSeconds: z.int().min(0).max(20).default(20),
    /** Messages (log files) read and dispatched at once from this queue. */
    concurrency: z.int().min(1).max(64).default(4),
    /**
     * How long a message stays hidden once received; extended on a heartbeat while its file is read,
     * decoded and dispatched. A message not deleted comes back this long after the last extension.
     */
    visibilitySeconds: z.int().min(1).max(43_200).default(300),
  }),
]);
export type QueueSettings = z.infer<typeof queueSchema>;

const intakeSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port. */
  port: z.int().min(0).max(65535).default(8787),
  /** Bearer token senders must present (a secret); generated and kept in the data folder when unset. */
  token: secretSchema.optional(),
  maxBodyBytes: z.int().min(1024).default(5 * 1024 * 1024),
  /** Bound on a gzip body once inflated (CloudTrail log files compress about 10 to 1). */
  maxInflatedBytes: z.int().min(1024).default(256 * 1024 * 1024),
  /**
   * Bodies inflated, parsed and normalized at once (per process), each on a thread of its own, off
   * the event loop. Two on a 2-core machine: a large body does not hold up the small ones, and the
   * event loop keeps its share of the cores.
   */
  decodeThreads: z.int().min(1).max(64).default(2),
  /**
   * Bytes of the bodies decoding or waiting for a thread, counted inflated; past it intake answers
   * 503 with Retry-After. Two of the largest bodies (maxInflatedBytes).
   */
  maxDecodingBytes: z.int().min(1024).default(512 * 1024 * 1024),
  /**
   * The heap of each decoding thread (MiB). A body that needs more is rejected, and so is one holding
   * more objects and arrays than a quarter of it takes (4096 per MiB). A 256 MiB CloudTrail log file
   * needs about 768.
   */
  decodeHeapMb: z.int().min(64).default(2048),
  /** How long one body may decode once it has a thread; a body that takes longer is rejected. */
  decodeTimeoutMs: z.int().min(100).default(60_000),
  /** Settings per source name (`guardduty`, `cloudtrail`, ...). */
  sources: z.record(z.string(), sourceSettingsSchema).default({}),
  /** How long intake waits for Temporal before answering 202 with `dispatched: false`. */
  dispatchTimeoutMs: z.int().min(100).default(5000),
  /**
   * Intake is reached through a proxy (that terminates TLS): take the client's address and scheme from
   * its X-Forwarded-For and X-Forwarded-Proto. `true` trusts any sender of them, so only when nothing
   * but the proxy reaches intake; better, the proxy's addresses or ranges.
   */
  trustProxy: z.union([z.boolean(), z.array(proxyAddress)]).default(false),
  /** Queues read for alerts besides the HTTP routes (CloudTrail log files through S3 notifications). */
  queues: z.array(queueSchema).default([]),
  /**
   * Forwards every alert accepted on the HTTP routes, once archived, to another intake (staging), in
   * the background: a bounded queue that drops the oldest when full; production never waits for it.
   */
  mirror: z
    .strictObject({
      /** The staging intake's base URL; alerts go to `<url>/v1/alerts/<source>`. */
      url: z.url({ protocol: /^https?$/ }),
      /** The staging intake's bearer token. */
      token: secretSchema,
      /** Alerts waiting to be forwarded; past it the oldest is dropped (and counted). */
      queueSize: z.int().min(1).max(100_000).default(1000),
      /** Bytes of the bodies waiting; past it the oldest is dropped too. */
      maxQueueBytes: z.int().min(1024).default(64 * 1024 * 1024),
      /** Alerts forwarded at once. */
      concurrency: z.int().min(1).max(64).default(2),
      /** How long one forward may take; a slower staging intake counts it as failed. */
      timeoutMs: z.int().min(100).max(300_000).default(10_000),
    })
    .optional(),
});

const archiveSchema = z.discriminatedUnion('kind', [
  /** `<dataDir>/archive`. */
  z.strictObject({ kind: z.literal('local') }),
  /** Any S3-compatible object store. */
  z.strictObject({
    kind: z.literal('s3'),
    bucket: z.string().min(1),
    prefix: z.string().default(''),
    region: z.string().min(1).default('us-east-1'),
    /** For S3-compatible stores other than AWS. */
    endpoint: z.url().optional(),
    forcePathStyle: z.boolean().default(false),
  }),
]);

// At least a second: Temporal refuses a schedule interval under one ("interval is too small", its
// scheduler's validateInterval), which `schedules apply` would only find out after `config check`
// passed; and a zero re-check timer or session lifetime would mean a busy loop or none at all.
const duration = z
  .string()
  .regex(/^\d+\s*(s|m|h|d|seconds?|minutes?|hours?|days?)$/, 'expected a duration like "5m" or "1h"')
  .refine((value) => Number.parseInt(value, 10) > 0, 'expected a duration of at least 1s (Temporal refuses a shorter schedule interval)');

const sweeperSchema = z.strictObject({
  /** How often the schedule looks for archived alerts that were never dispatched. */
  every: duration.default('5m'),
  /** How far back it looks. */
  lookbackDays: z.int().min(1).max(90).default(3),
});

/** Label names Vigil puts on issues; every one can be renamed. */
const labelsSchema = z.strictObject({
  base: z.string().min(1).max(50).default('vigil'),
  sourcePrefix: z.string().max(40).default('source:'),
  severityPrefix: z.string().max(40).default('severity:'),
  kindPrefix: z.string().max(40).default('kind:'),
  /** Before the ATT&CK tactics and techniques of the rules that found the alert (`attack:T1562.001`). */
  attackPrefix: z.string().max(40).default('attack:'),
  /** Something answered on an exposed port. */
  exposureOpen: z.string().min(1).max(50).default('exposure:open'),
  /** Nothing answered (or nothing could be probed), but the inventory shows it exposed, or cannot tell. */
  exposureUnconfirmed: z.string().min(1).max(50).default('exposure:unconfirmed'),
  exposureRemediated: z.string().min(1).max(50).default('exposure:remediated'),
  /** A step of the investigation failed after its retries; the issue says which and why. */
  failed: z.string().min(1).max(50).default('vigil:failed'),
  /** Put on an issue by a person: Vigil comments no more on it. */
  suppress: z.string().min(1).max(50).default('vigil:suppress'),
  /** A person accepted the risk (`/vigil accept … until <date>`): the issue is closed until then. */
  riskAccepted: z.string().min(1).max(50).default('risk:accepted'),
});
export type LabelNames = z.infer<typeof labelsSchema>;

const githubSchema = z.strictObject({
  owner: z.string().min(1),
  repo: z.string().min(1),
  /** GitHub Enterprise Server: `https://github.example.com/api/v3`. */
  baseUrl: z.url().default('https://api.github.com'),
  auth: z.union([
    z.strictObject({ token: secretSchema }),
    z.strictObject({ appId: z.union([z.int(), z.string().min(1)]), privateKey: secretSchema, installationId: z.int() }),
  ]),
  /** Secret of the `issues` webhook that reports closes, reopens and labels back to Vigil. */
  webhookSecret: secretSchema.optional(),
  /** Where evidence files go, since the API cannot attach files to issues. */
  evidence: z
    .discriminatedUnion('kind', [
      /** Committed to a branch of a repository (this one unless named) through the contents API. */
      z.strictObject({
        kind: z.literal('branch'),
        branch: z.string().min(1).default('vigil-evidence'),
        owner: z.string().min(1).optional(),
        repo: z.string().min(1).optional(),
      }),
      /** Stored in the artifact store and linked under its public base URL. */
      z.strictObject({ kind: z.literal('url'), baseUrl: z.url() }),
    ])
    .prefault({ kind: 'branch' }),
});
export type GitHubSettings = z.infer<typeof githubSchema>;

const localTrackerSchema = z.strictObject({
  /** The token of the issues page and API; the intake token when unset. */
  token: secretSchema.optional(),
  /** Host names (with `:port` for one port only) the page and API answer to besides intake's own address and loopback. */
  allowedHosts: z
    .array(z.string().regex(/^(\[[\da-f:.]+\]|[a-z\d-]+(\.[a-z\d-]+)*)(:\d{1,5})?$/i, 'expected a host name, optionally with :port, for example vigil.internal:8787'))
    .default([]),
  /** How long a login to the issues page lasts. */
  sessionTtl: duration.default('12h'),
  /**
   * People who comment on the local tracker's issues (`/vigil` commands among them), each with a
   * token of their own: the comment API takes it as the bearer, the page as the login, and the
   * comment carries the name. `response.askers` and `response.approvers` name them.
   */
  people: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-z\d](?:[a-z\d-]{0,37}[a-z\d])?$/i, 'expected a name like a GitHub login (letters, digits, inner hyphens)'),
        token: secretSchema,
      }),
    )
    .default([])
    .refine((people) => new Set(people.map((person) => person.name.toLowerCase())).size === people.length, 'each person once'),
}).superRefine(({ token, people }, context) => {
  // A token is whose it is: shared, one person's comments would carry another's name (tokens from the
  // environment are compared when intake starts).
  const literal = (secret: SecretSetting | undefined) => (typeof secret === 'string' ? secret : undefined);
  people.forEach((person, index) => {
    const own = literal(person.token);
    if (own === undefined) return;
    const holder = own === literal(token) ? 'the tracker token' : people.slice(0, index).find((other) => literal(other.token) === own)?.name;
    if (holder) context.addIssue({ code: 'custom', path: ['people', index, 'token'], message: `${person.name}'s token is ${holder === 'the tracker token' ? holder : `${holder}'s too`}: give each person a token of their own` });
  });
});

const trackerSchema = z.strictObject({
  kind: z.enum(['local', 'github']).default('local'),
  labels: labelsSchema.prefault({}),
  /** The local tracker's page and API. */
  local: localTrackerSchema.prefault({}),
  /** Required when kind is github. */
  github: githubSchema.optional(),
}).superRefine((tracker, context) => {
  if (tracker.kind === 'github' && !tracker.github) {
    context.addIssue({ code: 'custom', path: ['github'], message: 'required when tracker.kind is github (owner, repo, auth)' });
  }
});

const feedSettingsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Another address for the list (a mirror; `file:///path` for an offline copy). */
  url: z.string().min(1).optional(),
});

const providerSettingsSchema = z.strictObject({
  /** Providers are off until configured; a provider that needs a key needs `key` too. */
  enabled: z.boolean().default(true),
  key: secretSchema.optional(),
  baseUrl: z.url().optional(),
  ratePerMinute: z.number().positive().optional(),
  dailyQuota: z.int().min(0).optional(),
  ttlMinutes: z.number().positive().optional(),
});

const intelSchema = z.strictObject({
  /** Blocklist feeds by name (`tor-exits`, `spamhaus-drop`, ...): all on, at their public addresses. */
  feeds: z.record(z.string(), feedSettingsSchema).default({}),
  /** The scheduled refresh of the feeds' local copies. */
  feedRefresh: z.strictObject({ enabled: z.boolean().default(true), every: duration.default('1h') }).prefault({}),
  /** An older copy no longer counts: its feed answers `unknown`. */
  maxFeedAgeHours: z.number().positive().default(48),
  /** Threat-intelligence providers by name (`abuseipdb`, `greynoise`, ...): only those listed run. */
  providers: z.record(z.string(), providerSettingsSchema).default({}),
});
export type IntelSettings = z.infer<typeof intelSchema>;

const cidr = z.string().refine((text) => ipaddr.isValid(text) || ipaddr.isValidCIDR(text), 'expected an address or CIDR range, for example 127.0.0.0/8');

/**
 * A DNS server as Node's resolver takes it: an IPv4 address, an IPv6 one (in brackets when a port
 * follows), and a port from 1 to 65535. Anything else fails here rather than later: an address
 * Node does not take makes every name unresolvable, and port 0 aborts the process.
 */
const dnsServer = z.string().refine((text) => {
  const [, v6, v4, port] = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(text) ?? [];
  const hostOk = isIP(text) === 6 || (v6 !== undefined && isIP(v6) === 6) || (v4 !== undefined && isIP(v4) === 4);
  return hostOk && (isIP(text) === 6 || port === undefined || (Number(port) >= 1 && Number(port) <= 65535));
}, 'expected a DNS server address, optionally with a port (9.9.9.9:53, [2620:fe::fe]:53)');

const probeSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Reserved ranges (private, loopback...) that may still be probed. */
  allowRanges: z.array(cidr).default([]),
  /** When set, nothing outside these ranges is ever contacted (tests and the demo use 127.0.0.0/8). */
  onlyRanges: z.array(cidr).default([]),
  /**
   * DNS servers that resolve the names of databases, load balancers and function URLs as the
   * internet does (`1.1.1.1`, `9.9.9.9:53`); the system's resolver when empty. Set it where Vigil
   * runs inside a VPC, whose resolver answers public names with private addresses.
   */
  resolvers: z.array(dnsServer).default([]),
  /** Addresses probed although no inventory confirms them (other clouds, on-premises). */
  extraTargets: z.array(cidr).default([]),
  concurrency: z.int().min(1).max(1024).default(256),
  connectTimeoutMs: z.int().min(100).max(60_000).default(3000),
  /**
   * The TCP sweep waits for each connect as long as the host's measured round trips say (never longer
   * than connectTimeoutMs): this long before the host has answered anything (nmap -T4's initial wait)...
   */
  initialConnectWaitMs: z.int().min(10).max(60_000).default(500),
  /** ...and never shorter than this, however fast it answers. */
  minConnectWaitMs: z.int().min(10).max(60_000).default(50),
  /** Bound on each service check once connected (HTTP, TLS, SSH, databases). */
  serviceTimeoutMs: z.int().min(100).max(120_000).default(8000),
  /** Ports probed one by one per range; wider ranges probe only the well-known ports inside them. */
  maxPortsPerRange: z.int().min(1).max(4096).default(64),
  /** The SSH `none` authentication attempt that lists the allowed methods (it is logged on the target). */
  sshAuthMethods: z.boolean().default(true),
});
export type ProbeSettings = z.infer<typeof probeSchema>;

const screenshotSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Pages rendered at once by one browser worker; unset, from the machine's cores (workers/browser-worker.ts). */
  concurrency: z.int().min(1).max(16).optional(),
  /** A fresh browser after this many pages (and after any crash). */
  pagesPerBrowser: z.int().min(1).default(50),
  timeoutMs: z.int().min(1000).max(120_000).default(15_000),
  viewport: z.strictObject({ width: z.int().min(200).max(4000).default(1280), height: z.int().min(200).max(4000).default(800) }).prefault({}),
  /** The Chromium binary; defaults to VIGIL_CHROMIUM, then the system's. */
  chromium: z.string().min(1).optional(),
});
export type ScreenshotSettings = z.infer<typeof screenshotSchema>;

const watchSchema = z.strictObject({
  /** Re-check open exposures on a timer; off, an investigation reports once. */
  enabled: z.boolean().default(true),
  /** Time between re-checks, by the alert's severity. */
  every: z
    .strictObject({
      critical: duration.default('1h'),
      high: duration.default('4h'),
      medium: duration.default('12h'),
      low: duration.default('1d'),
      informational: duration.default('1d'),
    })
    .prefault({}),
  /** Consecutive checks with nothing answering before the exposure counts as remediated. */
  cleanChecks: z.int().min(1).max(100).default(3),
  /** Close the issue once remediated. */
  autoClose: z.boolean().default(false),
  /** Watching stops after this long, exposed or not (the issue says so). */
  maxAge: duration.default('30d'),
  /** Re-checks per workflow run before it continues as new, keeping each history small. */
  checksPerRun: z.int().min(1).max(1000).default(100),
});
export type WatchSettings = z.infer<typeof watchSchema>;

/** A resource that may stay public: matched by id, tag or label, for a reason, until a date. */
const rescanAllowSchema = z
  .strictObject({
    resource: z.string().min(1).optional(),
    /** `key=value` among the resource's tags (AWS) or labels (GCP, static). */
    tag: z.string().regex(/^[^=]+=.*$/, 'expected key=value').optional(),
    reason: z.string().min(1),
    /** The last day the allowance holds (YYYY-MM-DD): from the next day the resource is a violation again. */
    expires: z.iso.date(),
  })
  .refine((entry) => entry.resource !== undefined || entry.tag !== undefined, 'give resource or tag');

const rescanSchema = z.strictObject({
  /** Scheduled re-scans of every configured inventory scope. */
  enabled: z.boolean().default(true),
  every: duration.default('1d'),
  /** Ports that must never be open to the internet: remote access, databases, admin panels. */
  sensitivePorts: z
    .array(port)
    .default([22, 23, 135, 139, 445, 1433, 1521, 2375, 2376, 3306, 3389, 5432, 5601, 5900, 5984, 6379, 6443, 8080, 8443, 9042, 9200, 9300, 10250, 11211, 15672, 27017]),
  allow: z.array(rescanAllowSchema).default([]),
});
export type RescanSettings = z.infer<typeof rescanSchema>;

/**
 * Who may ask for and approve a remediation: GitHub logins (`alice`), members of a GitHub team
 * (`@acme/secops`), or local tracker people (`tracker.local.people`) by name.
 */
const responderSchema = z.string().regex(/^(@[a-z\d][a-z\d-]*\/[a-z\d][a-z\d._-]*|[a-z\d](?:[a-z\d-]{0,37}[a-z\d])?)$/i, 'expected a login (alice) or a team (@org/team)');

/** Response: remediation plans proposed on proven exposures, carried out on approval from the issue (docs/response.md). */
const responseSchema = z.strictObject({
  /** Propose plans on exposures with proof. */
  enabled: z.boolean().default(true),
  /** The plan is written and approved as usual, but nothing is changed: the way to start (the first weeks). */
  dryRun: z.boolean().default(true),
  /** A plan asked for (`/vigil remediate`) and not approved within this long expires. */
  planTtl: duration.default('24h'),
  askers: z.array(responderSchema).default([]),
  approvers: z.array(responderSchema).default([]),
  /** Whether the person who asked may also approve (a second person by default). */
  selfApproval: z.boolean().default(false),
  /** How far ahead `/vigil accept … until <day>` may reach: an accepted risk is looked at again at least this often. */
  maxAcceptance: duration.default('90d'),
  /** The remediation's own AWS identity: a narrow role assumed in the resource's account (docs/response.md gives its policy). */
  aws: z
    .strictObject({
      roleName: z.string().regex(/^[\w+=,.@-]{1,64}$/, 'expected a role name (VigilRemediation), not an ARN: the role is assumed in the account of each resource').default('VigilRemediation'),
      externalId: secretSchema.optional(),
      /** Use the worker's own credentials instead of assuming the role (one account, or tests). */
      useOwnCredentials: z.boolean().default(false),
      /** For emulators and tests. */
      endpoint: z.url().optional(),
      maxAttempts: z.int().min(1).max(10).default(3),
    })
    .prefault({}),
  /** The remediation's own GCP identity: a service account key file (Application Default Credentials when unset). */
  gcp: z
    .strictObject({
      credentialsFile: z.string().min(1).optional(),
      /** For local servers and tests: the Compute and Storage JSON APIs' roots. */
      computeEndpoint: z.url().optional(),
      storageEndpoint: z.url().optional(),
    })
    .prefault({}),
});
export type ResponseSettings = z.infer<typeof responseSchema>;

const discoverySchema = z.strictObject({
  /** How often the inventories that can discover what they cover (AWS Organizations, the GCP hierarchy) look again. */
  every: duration.default('1h'),
});

const correlationSchema = z.strictObject({
  /**
   * How long after its first look for related investigations an investigation looks again.
   * Visibility is eventually consistent: above twice the visibility store's lag (about a second for
   * Elasticsearch), two investigations that start together find each other. 0 where visibility is
   * immediate (the dev server's SQLite).
   */
  settleMs: z.int().min(0).max(60_000).default(3000),
});
export type CorrelationSettings = z.infer<typeof correlationSchema>;

/**
 * The main worker's slots and pollers (Temporal's worker options of the same names). Tuned for a
 * burst of new alerts: half the workflow pollers wait on the shared queue, where each new
 * investigation's first task is (Temporal's default gives it a fifth, behind the sticky tasks of
 * investigations already under way), and pollers scale with the backlog up to `maxTaskPollers`.
 */
const workerSchema = z.strictObject({
  maxConcurrentWorkflowTaskExecutions: z.int().min(2).default(40),
  maxConcurrentActivityTaskExecutions: z.int().min(1).default(100),
  /** Workflow task pollers and activity task pollers, each (autoscaled between 2 and this). */
  maxTaskPollers: z.int().min(2).max(1000).default(100),
  nonStickyToStickyPollRatio: z.number().min(0.01).max(1).default(1),
});
export type WorkerSettings = z.infer<typeof workerSchema>;

const detectionsSchema = z.strictObject({
  /**
   * Sigma rule files, or folders searched recursively for .yml and .yaml files (relative paths from
   * the working directory, like dataDir). Rules for CloudTrail and GCP audit logs are used; any other
   * rule is skipped, and intake says why at start (`vigil rules check` lists them).
   */
  sigma: z.array(z.string().min(1)).default([]),
});
export type DetectionSettings = z.infer<typeof detectionsSchema>;

/**
 * The Prometheus endpoint (GET /metrics) of each process: its own counters and the Temporal SDK's
 * (docs/operations.md). On loopback by default: metrics say what is being investigated, so they
 * are published beyond this machine only on purpose (`host: 0.0.0.0` in a container).
 */
const metricsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  host: z.string().min(1).default('127.0.0.1'),
  /** One port per process kind, so that they can share a machine; 0 takes a free one. `vigil dev` serves all on the intake's. */
  ports: z
    .strictObject({
      intake: z.int().min(0).max(65535).default(9464),
      worker: z.int().min(0).max(65535).default(9465),
      browserWorker: z.int().min(0).max(65535).default(9466),
    })
    .prefault({}),
});
export type MetricsSettings = z.infer<typeof metricsSchema>;

export const configSchema = z.strictObject({
  /** Folder for the archive, the local tracker, the dev server's state and the intake token. */
  dataDir: z.string().min(1).default('.data'),
  temporal: temporalSchema.prefault({}),
  intake: intakeSchema.prefault({}),
  tracker: trackerSchema.prefault({}),
  archive: archiveSchema.prefault({ kind: 'local' }),
  sweeper: sweeperSchema.prefault({}),
  intel: intelSchema.prefault({}),
  /**
   * Where the resource context comes from, by provider name (`aws`, `gcp`, `static`): none is on
   * until configured. Each provider validates its own settings (the inventory registry, at
   * `vigil config check` and worker start), so that adding one touches nothing here.
   */
  inventory: z.record(z.string(), z.unknown()).default({}),
  probe: probeSchema.prefault({}),
  screenshots: screenshotSchema.prefault({}),
  watch: watchSchema.prefault({}),
  rescan: rescanSchema.prefault({}),
  /** The scheduled discovery of accounts and projects, and of the gaps in what Vigil can read. */
  discovery: discoverySchema.prefault({}),
  /** How investigations about one resource or actor find each other (docs/correlation.md). */
  correlation: correlationSchema.prefault({}),
  /** The main worker's task slots and pollers. */
  worker: workerSchema.prefault({}),
  /** Rules of the team's own, beside the sources' built-in rules (docs/sigma.md). */
  detections: detectionsSchema.prefault({}),
  /** Remediation from the issue, with approval, audited and reversible (docs/response.md). */
  response: responseSchema.prefault({}),
  /** The Prometheus endpoint of each process (docs/operations.md). */
  metrics: metricsSchema.prefault({}),
});

export type Config = z.infer<typeof configSchema>;

/** Environment variables that override one configuration key each. */
const envOverrides: Record<string, { key: string[]; number?: boolean }> = {
  VIGIL_DATA_DIR: { key: ['dataDir'] },
  VIGIL_HOST: { key: ['intake', 'host'] },
  VIGIL_PORT: { key: ['intake', 'port'], number: true },
  VIGIL_INTAKE_TOKEN: { key: ['intake', 'token'] },
  VIGIL_METRICS_HOST: { key: ['metrics', 'host'] },
  TEMPORAL_ADDRESS: { key: ['temporal', 'address'] },
  TEMPORAL_NAMESPACE: { key: ['temporal', 'namespace'] },
  // The temporal CLI's own names, so one environment serves both.
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: { key: ['temporal', 'tls', 'caFile'] },
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: { key: ['temporal', 'tls', 'ca'] },
  TEMPORAL_TLS_CLIENT_CERT_PATH: { key: ['temporal', 'tls', 'certFile'] },
  TEMPORAL_TLS_CLIENT_CERT_DATA: { key: ['temporal', 'tls', 'cert'] },
  TEMPORAL_TLS_CLIENT_KEY_PATH: { key: ['temporal', 'tls', 'keyFile'] },
  TEMPORAL_TLS_CLIENT_KEY_DATA: { key: ['temporal', 'tls', 'key'] },
  TEMPORAL_TLS_SERVER_NAME: { key: ['temporal', 'tls', 'serverName'] },
  TEMPORAL_API_KEY: { key: ['temporal', 'apiKey'] },
};

/** The value of a secret setting; `key` names it in the error when its variable is unset. */
export function resolveSecret(secret: SecretSetting, key: string, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof secret === 'string') return secret;
  const value = env[secret.env];
  if (!value) throw new ConfigError('environment', [`${key}: the environment variable ${secret.env} is not set`]);
  return value;
}

export class ConfigError extends Error {
  constructor(
    readonly origin: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration (${origin}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * One line per problem, each naming the full key at fault (`inventory.aws.accounts.0.id: …`).
 * `at` is where the validated settings sit in the configuration; `origin` says where a key's value
 * came from, when not the file.
 */
export function settingsProblems(issues: readonly z.core.$ZodIssue[], at: readonly PropertyKey[] = [], origin?: (key: string) => string): string[] {
  return issues.flatMap((issue) => {
    const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys : undefined;
    return (unknownKeys ?? [undefined]).map((extra) => {
      const key = [...at, ...issue.path, ...(extra === undefined ? [] : [extra])].map(String).join('.') || '(top level)';
      return `${key}: ${unknownKeys ? 'unknown key (misspelt, or not a Vigil setting)' : issue.message}${origin?.(key) ?? ''}`;
    });
  });
}

export interface LoadConfigOptions {
  /** An explicit file; otherwise VIGIL_CONFIG, otherwise ./vigil.yaml when it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** A profile of the file's `profiles` to merge over its top level (lib/profiles.ts); otherwise VIGIL_PROFILE. */
  profile?: string;
}

export function configFilePath({ file, env = process.env, cwd = process.cwd() }: LoadConfigOptions): string | undefined {
  const chosen = file ?? env.VIGIL_CONFIG;
  if (chosen) return path.resolve(cwd, chosen);
  const conventional = path.join(cwd, 'vigil.yaml');
  return existsSync(conventional) ? conventional : undefined;
}

function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  try {
    return parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(file, [`not valid YAML or JSON: ${(err as Error).message}`]);
  }
}

function setPath(target: Record<string, unknown>, key: string[], value: unknown): void {
  let node = target;
  for (const part of key.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[key.at(-1)!] = value;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const { env = process.env, cwd = process.cwd() } = options;
  const file = configFilePath(options);
  const raw = file ? readConfigFile(file) : {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(file ?? 'defaults', ['the top level must be a mapping of keys to values']);
  }
  const selected = selectProfile(structuredClone(raw) as Record<string, unknown>, options.profile ?? env.VIGIL_PROFILE);
  if (selected.problems.length > 0) throw new ConfigError(file ?? 'environment', selected.problems);
  // Over the profile: a variable set for this process is its last word, taken as it is (not suffixed).
  const fromEnv = new Map<string, string>();
  for (const [name, { key, number }] of Object.entries(envOverrides)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(selected.settings, key, number && /^\d+$/.test(value) ? Number(value) : value);
    fromEnv.set(key.join('.'), name);
  }
  const result = configSchema.safeParse(selected.settings);
  if (!result.success) {
    const origin = (key: string) => (fromEnv.has(key) ? ` (from ${fromEnv.get(key)})` : '');
    const locate = (issue: z.core.$ZodIssue) => (fromEnv.has(issue.path.join('.')) ? [issue] : selected.locate(issue));
    throw new ConfigError(file ?? 'environment', settingsProblems(result.error.issues.flatMap(locate), [], origin));
  }
  const config = result.data;
  config.dataDir = path.resolve(cwd, config.dataDir);
  config.detections.sigma = config.detections.sigma.map((entry) => path.resolve(cwd, entry));
  return config;
}
