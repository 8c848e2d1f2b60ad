// Who an AWS principal is, read from IAM in its own account through the read-only role the AWS
// inventory assumes there: user or role, when created, MFA, console password, access keys and
// their last use, and the policies that make it an administrator (attached, through its groups,
// inline). Loaded only when `inventory.aws` is configured: the IAM client is large.
//
// IAM throttles hard, and an alert storm names the same few principals again and again: what was
// read is kept for a while (facts per principal, verdicts per policy version), and the requests in
// flight to one account are bounded, however many principals and alerts ask at once.
import {
  GetAccessKeyLastUsedCommand,
  GetGroupPolicyCommand,
  GetLoginProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  paginateListAccessKeys,
  paginateListAttachedGroupPolicies,
  paginateListAttachedRolePolicies,
  paginateListAttachedUserPolicies,
  paginateListGroupPolicies,
  paginateListGroupsForUser,
  paginateListMFADevices,
  paginateListRolePolicies,
  paginateListUserPolicies,
  type AttachedPolicy,
  type IAMClientConfig,
} from '@aws-sdk/client-iam';
import { GetAccessKeyInfoCommand, STSClient } from '@aws-sdk/client-sts';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import Bottleneck from 'bottleneck';
import { resolveSecret } from '../../lib/config';
import type { AccessKeyFacts, AdminGrant, PrincipalFacts } from '../../lib/intel';
import type { AwsInventorySettings } from '../context/aws';
import { createTtlCache } from './cache';
import type { AwsPrincipalName } from './names';
import { ADMINISTRATOR_ACCESS, grantsEverything, isAwsManaged } from './policy';

type Credentials = NonNullable<IAMClientConfig['credentials']>;

export interface AwsPrincipalOptions {
  /** The worker's own credentials, used to assume the roles; the SDK's default chain when unset. */
  credentials?: Credentials;
}

/** Refusals that retrying will not change: said on the issue instead of retried. */
const refusals = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthFailure', 'InvalidClientTokenId', 'ExpiredToken']);
const isRefusal = (err: unknown) => err instanceof Error && refusals.has(err.name);
/** IAM's "no such user, role, key or login profile", as the SDK names it (with or without `Exception`). */
const isMissing = (err: unknown) => err instanceof Error && ['NoSuchEntity', 'NoSuchEntityException', 'NotFoundException'].includes(err.name);

/** How long what IAM said of a principal (or of a policy's default version) is kept. */
export const AWS_PRINCIPALS_TTL_MS = 15 * 60_000;
/** IAM requests in flight to one account at most, whatever the number of principals and alerts. */
export const IAM_REQUESTS_PER_ACCOUNT = 8;

/** A lasting reason the principal cannot be read: the investigation says it and goes on. */
class Unreadable extends Error {}

const iso = (date: Date | undefined) => date?.toISOString();

async function collect<Page, Item>(pages: AsyncIterable<Page>, items: (page: Page) => Item[] | undefined): Promise<Item[]> {
  const all: Item[] = [];
  for await (const page of pages) all.push(...(items(page) ?? []));
  return all;
}

/** `inventory.aws` may grow discovered accounts (`organization`); read loosely, so both shapes work. */
type Settings = AwsInventorySettings & { organization?: { roleName?: string } };

export function createAwsPrincipals(settings: Settings, options: AwsPrincipalOptions = {}) {
  const externalId = settings.externalId ? resolveSecret(settings.externalId, 'inventory.aws.externalId') : undefined;
  const common = { region: 'us-east-1', maxAttempts: settings.maxAttempts, retryMode: 'adaptive', ...(settings.endpoint ? { endpoint: settings.endpoint } : {}) } as const;
  const clients = new Map<string, IAMClient>();
  const limiters = new Map<string, Bottleneck>();
  /** Facts by `<account>/<user|role>/<name>` or `key/<id>`, lasting refusals included. */
  const facts = createTtlCache<PrincipalFacts>({ ttlMs: AWS_PRINCIPALS_TTL_MS });
  /** A customer policy's default version, by ARN. */
  const defaultVersions = createTtlCache<string | undefined>({ ttlMs: AWS_PRINCIPALS_TTL_MS, maxEntries: 5000 });
  /** Whether a policy version grants everything, by `<ARN>#<version>`: a version's document never changes. */
  const verdicts = createTtlCache<boolean>({ ttlMs: AWS_PRINCIPALS_TTL_MS, maxEntries: 5000 });

  /** The role to read the account through: its own entry, or the discovered accounts' role name. */
  function roleIn(account: string): { roleArn?: string; own?: true } {
    const listed = settings.accounts.find((candidate) => candidate.id === account);
    if (listed?.useOwnCredentials) return { own: true };
    if (listed) return { roleArn: listed.roleArn ?? `arn:aws:iam::${account}:role/${settings.roleName}` };
    if (settings.organization) return { roleArn: `arn:aws:iam::${account}:role/${settings.organization.roleName ?? settings.roleName}` };
    throw new Unreadable(`account ${account} is not covered by inventory.aws`);
  }

  function iamIn(account: string): IAMClient {
    let client = clients.get(account);
    if (client) return client;
    const { roleArn } = roleIn(account);
    let credentials = options.credentials;
    if (roleArn) {
      const assume = fromTemporaryCredentials({
        params: { RoleArn: roleArn, RoleSessionName: 'vigil-principals', ...(externalId ? { ExternalId: externalId } : {}) },
        ...(options.credentials ? { masterCredentials: options.credentials } : {}),
        clientConfig: common,
      });
      credentials = async (properties) => {
        try {
          return await assume(properties);
        } catch (err) {
          throw isRefusal(err) ? new Unreadable(`cannot assume role ${roleArn} (${(err as Error).name})`) : err;
        }
      };
    }
    client = new IAMClient({ ...common, ...(credentials ? { credentials } : {}) });
    clients.set(account, client);
    return client;
  }

  /** One IAM call (a whole listing, all its pages), within the account's bound; a refusal names the permission it needs. */
  async function call<T>(permission: string, account: string, work: () => Promise<T>): Promise<T> {
    let limiter = limiters.get(account);
    if (!limiter) limiters.set(account, (limiter = new Bottleneck({ maxConcurrent: IAM_REQUESTS_PER_ACCOUNT })));
    try {
      return await limiter.schedule(work);
    } catch (err) {
      if (isRefusal(err)) throw new Unreadable(`access denied to ${permission} in account ${account} (${(err as Error).name})`);
      throw err;
    }
  }

  /** Managed policies that grant everything: AdministratorAccess by name, customer policies by their default version. */
  async function adminManaged(iam: IAMClient, account: string, attached: AttachedPolicy[], via: string): Promise<AdminGrant[]> {
    const judged = await Promise.all(
      attached.map(async ({ PolicyArn: arn, PolicyName: name }) => {
        if (!arn) return [];
        if (isAwsManaged(arn)) return arn === ADMINISTRATOR_ACCESS ? [{ policy: name ?? arn, via }] : [];
        const version = await defaultVersions.get(arn, async () => (await call('iam:GetPolicy', account, () => iam.send(new GetPolicyCommand({ PolicyArn: arn })))).Policy?.DefaultVersionId);
        const admin = await verdicts.get(`${arn}#${version}`, async () => {
          const { PolicyVersion } = await call('iam:GetPolicyVersion', account, () => iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: version })));
          return grantsEverything(PolicyVersion?.Document);
        });
        return admin ? [{ policy: name ?? arn, via }] : [];
      }),
    );
    return judged.flat();
  }

  /** Inline policies that grant everything. */
  async function adminInline(names: string[], read: (name: string) => Promise<string | undefined>, via: string): Promise<AdminGrant[]> {
    const judged = await Promise.all(names.map(async (name) => (grantsEverything(await read(name)) ? [{ policy: name, via }] : [])));
    return judged.flat();
  }

  async function describeUser(account: string, name: string): Promise<PrincipalFacts> {
    const iam = iamIn(account);
    const user = await call('iam:GetUser', account, () => iam.send(new GetUserCommand({ UserName: name }))).catch((err: unknown) => {
      if (isMissing(err)) throw new Unreadable(`no user ${name} in account ${account}`);
      throw err;
    });
    const [mfa, login, keys, attached, groups, inline] = await Promise.all([
      call('iam:ListMFADevices', account, () => collect(paginateListMFADevices({ client: iam }, { UserName: name }), (page) => page.MFADevices)),
      call('iam:GetLoginProfile', account, () => iam.send(new GetLoginProfileCommand({ UserName: name }))).then(
        () => true,
        (err: unknown) => {
          if (isMissing(err)) return false;
          throw err;
        },
      ),
      call('iam:ListAccessKeys', account, () => collect(paginateListAccessKeys({ client: iam }, { UserName: name }), (page) => page.AccessKeyMetadata)),
      call('iam:ListAttachedUserPolicies', account, () => collect(paginateListAttachedUserPolicies({ client: iam }, { UserName: name }), (page) => page.AttachedPolicies)),
      call('iam:ListGroupsForUser', account, () => collect(paginateListGroupsForUser({ client: iam }, { UserName: name }), (page) => page.Groups)),
      call('iam:ListUserPolicies', account, () => collect(paginateListUserPolicies({ client: iam }, { UserName: name }), (page) => page.PolicyNames)),
    ]);
    const accessKeys = await Promise.all(
      keys.map(async ({ AccessKeyId: id = '', Status, CreateDate }): Promise<AccessKeyFacts> => {
        const { AccessKeyLastUsed: used } = await call('iam:GetAccessKeyLastUsed', account, () => iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: id })));
        const service = used?.ServiceName && used.ServiceName !== 'N/A' ? used.ServiceName : undefined;
        const region = used?.Region && used.Region !== 'N/A' ? used.Region : undefined;
        return { id, status: Status ?? 'unknown', ...(CreateDate ? { created: iso(CreateDate) } : {}), ...(used?.LastUsedDate ? { lastUsed: { at: iso(used.LastUsedDate)!, ...(service ? { service } : {}), ...(region ? { region } : {}) } } : {}) };
      }),
    );
    const throughGroups = await Promise.all(
      groups.map(async ({ GroupName: group = '' }) => {
        const via = `group ${group}`;
        const [groupAttached, groupInline] = await Promise.all([
          call('iam:ListAttachedGroupPolicies', account, () => collect(paginateListAttachedGroupPolicies({ client: iam }, { GroupName: group }), (page) => page.AttachedPolicies)),
          call('iam:ListGroupPolicies', account, () => collect(paginateListGroupPolicies({ client: iam }, { GroupName: group }), (page) => page.PolicyNames)),
        ]);
        const readGroupPolicy = (policy: string) =>
          call('iam:GetGroupPolicy', account, () => iam.send(new GetGroupPolicyCommand({ GroupName: group, PolicyName: policy }))).then((answer) => answer.PolicyDocument);
        return [...(await adminManaged(iam, account, groupAttached, via)), ...(await adminInline(groupInline, readGroupPolicy, `${via} (inline)`))];
      }),
    );
    const readUserPolicy = (policy: string) => call('iam:GetUserPolicy', account, () => iam.send(new GetUserPolicyCommand({ UserName: name, PolicyName: policy }))).then((answer) => answer.PolicyDocument);
    const { User } = user;
    return {
      kind: 'aws-user',
      account,
      name,
      arn: User?.Arn ?? `arn:aws:iam::${account}:user/${name}`,
      ...(User?.CreateDate ? { created: iso(User.CreateDate) } : {}),
      mfaDevices: mfa.length,
      console: { enabled: login, ...(login && User?.PasswordLastUsed ? { lastUsed: iso(User.PasswordLastUsed) } : {}) },
      accessKeys,
      adminPolicies: [...(await adminManaged(iam, account, attached, 'attached')), ...(await adminInline(inline, readUserPolicy, 'inline')), ...throughGroups.flat()],
    };
  }

  async function describeRole(account: string, name: string): Promise<PrincipalFacts> {
    const iam = iamIn(account);
    const { Role } = await call('iam:GetRole', account, () => iam.send(new GetRoleCommand({ RoleName: name }))).catch((err: unknown) => {
      if (isMissing(err)) throw new Unreadable(`no role ${name} in account ${account}`);
      throw err;
    });
    const [attached, inline] = await Promise.all([
      call('iam:ListAttachedRolePolicies', account, () => collect(paginateListAttachedRolePolicies({ client: iam }, { RoleName: name }), (page) => page.AttachedPolicies)),
      call('iam:ListRolePolicies', account, () => collect(paginateListRolePolicies({ client: iam }, { RoleName: name }), (page) => page.PolicyNames)),
    ]);
    const readRolePolicy = (policy: string) => call('iam:GetRolePolicy', account, () => iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: policy }))).then((answer) => answer.PolicyDocument);
    return {
      kind: 'aws-role',
      account,
      name,
      arn: Role?.Arn ?? `arn:aws:iam::${account}:role/${name}`,
      ...(Role?.CreateDate ? { created: iso(Role.CreateDate) } : {}),
      ...(Role?.RoleLastUsed?.LastUsedDate ? { lastUsed: iso(Role.RoleLastUsed.LastUsedDate) } : {}),
      adminPolicies: [...(await adminManaged(iam, account, attached, 'attached')), ...(await adminInline(inline, readRolePolicy, 'inline'))],
    };
  }

  /** An access key: its account from STS (with the worker's own credentials), its user from IAM there. */
  async function describeAccessKey(id: string): Promise<PrincipalFacts> {
    const sts = new STSClient({ ...common, ...(options.credentials ? { credentials: options.credentials } : {}) });
    const { Account: account } = await call('sts:GetAccessKeyInfo', 'of the worker', () => sts.send(new GetAccessKeyInfoCommand({ AccessKeyId: id }))).finally(() => sts.destroy());
    if (!account) throw new Unreadable('STS named no account for the access key');
    if (id.startsWith('ASIA')) throw new Unreadable(`temporary credentials of account ${account}: the session behind them is not looked up`);
    const iam = iamIn(account);
    const { UserName } = await call('iam:GetAccessKeyLastUsed', account, () => iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: id }))).catch((err: unknown) => {
      if (isMissing(err)) throw new Unreadable(`no access key ${id} in account ${account}`);
      throw err;
    });
    if (!UserName) throw new Unreadable(`IAM named no user for the access key in account ${account}`);
    return readUser(account, UserName);
  }

  /** What IAM says, from the cache when it was asked lately; a lasting reason it cannot be read as `unread`. */
  const remembered = (key: string, read: () => Promise<PrincipalFacts>) =>
    facts.get(key, () =>
      read().catch((err: unknown): PrincipalFacts => {
        if (err instanceof Unreadable) return { kind: 'unread', reason: err.message };
        throw err;
      }),
    );
  const readUser = (account: string, name: string) => remembered(`${account}/user/${name}`, () => describeUser(account, name));

  return {
    /** What IAM says about the principal; a lasting reason it cannot be read as `unread`. Transient failures throw. */
    async describe(principal: AwsPrincipalName): Promise<PrincipalFacts> {
      const seenAs = principal.type === 'access-key' ? principal.id : principal.seenAs;
      const found =
        principal.type === 'access-key'
          ? await remembered(`key/${principal.id}`, () => describeAccessKey(principal.id))
          : principal.type === 'user'
            ? await readUser(principal.account, principal.name)
            : await remembered(`${principal.account}/role/${principal.name}`, () => describeRole(principal.account, principal.name));
      return found.kind === 'aws-user' || found.kind === 'aws-role' ? { ...found, ...(seenAs ? { seenAs } : {}) } : found;
    },
  };
}

export type AwsPrincipals = ReturnType<typeof createAwsPrincipals>;
