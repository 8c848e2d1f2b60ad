// A real moto server (AWS API emulation) on loopback, for tests that drive the AWS SDK over HTTP.
import { startMotoServer } from '../../scripts/moto-server';

export interface Moto {
  endpoint: string;
  /** Credentials moto accepts (any will do; these keep the SDK from looking elsewhere). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

export async function startMoto(): Promise<Moto> {
  const { endpoint, stop } = await startMotoServer();
  return { endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, stop };
}

/**
 * moto server's IAM authorization: on, every request must be signed by an identity moto knows (an IAM
 * user's key, or a role assumed with one) and be allowed by its policies; off, anything goes.
 */
export async function setMotoAuth(moto: Moto, on: boolean): Promise<void> {
  const response = await fetch(`${moto.endpoint}/moto-api/reset-auth`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: on ? '0' : 'inf' });
  if (!response.ok) throw new Error(`moto reset-auth answered ${response.status}`);
}

/** An AWS organisation in moto, built while its IAM authorization is off (see `withoutAuth`). */
export interface MotoOrganization {
  /** The management account (moto's default account, where the organisation is made). */
  management: string;
  root: string;
  /** Credentials of the worker's own IAM user in the management account. */
  worker: { accessKeyId: string; secretAccessKey: string };
  ou(name: string, parent?: string): Promise<string>;
  /** A new active account under `parent` (moto gives it an OrganizationAccountAccessRole, which Vigil does not use). */
  account(name: string, parent: string): Promise<string>;
  close(account: string): Promise<void>;
  /**
   * A role in the account, with `actions` allowed on everything (none: a role that may do nothing),
   * and the worker allowed to assume it. moto lets anyone assume any role, existing or not, across
   * accounts; the worker's own policy naming the roles it may assume is what makes moto refuse
   * (AccessDenied, as AWS answers for a missing role or one that does not trust the worker).
   */
  role(account: string, name: string, actions?: string[]): Promise<void>;
  /**
   * Takes every permission from the role, which stays (moto answers 500 to the sessions of a deleted
   * role, where AWS refuses them, so a test revokes rather than deletes).
   */
  revokeRole(account: string, name: string): Promise<void>;
  /** Runs `work` with authorization off (seeding as anyone), on again afterwards. */
  withoutAuth<T>(work: () => Promise<T>): Promise<T>;
}

export async function createMotoOrganization(moto: Moto, region = 'us-east-1'): Promise<MotoOrganization> {
  const [{ OrganizationsClient, CreateOrganizationCommand, ListRootsCommand, CreateOrganizationalUnitCommand, CreateAccountCommand, MoveAccountCommand, CloseAccountCommand }, iamSdk, { STSClient, AssumeRoleCommand }] =
    await Promise.all([import('@aws-sdk/client-organizations'), import('@aws-sdk/client-iam'), import('@aws-sdk/client-sts')]);
  const base = { region, endpoint: moto.endpoint, credentials: moto.credentials };
  const organizations = new OrganizationsClient(base);
  const { Organization } = await organizations.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const { Roots } = await organizations.send(new ListRootsCommand({}));
  const iam = new iamSdk.IAMClient(base);
  await iam.send(new iamSdk.CreateUserCommand({ UserName: 'vigil-worker' }));
  const { AccessKey } = await iam.send(new iamSdk.CreateAccessKeyCommand({ UserName: 'vigil-worker' }));
  const assumable: string[] = [];
  const workerPolicy = () =>
    iam.send(
      new iamSdk.PutUserPolicyCommand({
        UserName: 'vigil-worker',
        PolicyName: 'vigil',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: ['organizations:List*', 'organizations:Describe*', 'ec2:Describe*'], Resource: '*' },
            ...(assumable.length > 0 ? [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: assumable }] : []),
          ],
        }),
      }),
    );
  await workerPolicy();
  /** IAM of another account, through a role assumed there (moto files what it creates under that account). */
  const iamIn = async (account: string) => {
    const sts = new STSClient(base);
    const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/seeder`, RoleSessionName: 'seed' }));
    return new iamSdk.IAMClient({ ...base, credentials: { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! } });
  };
  return {
    management: Organization!.MasterAccountId!,
    root: Roots![0]!.Id!,
    worker: { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! },
    async ou(name, parent) {
      const { OrganizationalUnit } = await organizations.send(new CreateOrganizationalUnitCommand({ ParentId: parent ?? Roots![0]!.Id!, Name: name }));
      return OrganizationalUnit!.Id!;
    },
    async account(name, parent) {
      const { CreateAccountStatus } = await organizations.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }));
      const id = CreateAccountStatus!.AccountId!;
      await organizations.send(new MoveAccountCommand({ AccountId: id, SourceParentId: Roots![0]!.Id!, DestinationParentId: parent }));
      return id;
    },
    async close(account) {
      await organizations.send(new CloseAccountCommand({ AccountId: account }));
    },
    async role(account, name, actions = []) {
      const client = await iamIn(account);
      const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${Organization!.MasterAccountId}:root` }, Action: 'sts:AssumeRole' }] };
      await client.send(new iamSdk.CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: JSON.stringify(trust) }));
      if (actions.length > 0) {
        const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] };
        await client.send(new iamSdk.PutRolePolicyCommand({ RoleName: name, PolicyName: 'vigil', PolicyDocument: JSON.stringify(policy) }));
      }
      assumable.push(`arn:aws:iam::${account}:role/${name}`);
      await workerPolicy();
    },
    async revokeRole(account, name) {
      const client = await iamIn(account);
      const { PolicyNames = [] } = await client.send(new iamSdk.ListRolePoliciesCommand({ RoleName: name }));
      for (const policy of PolicyNames) await client.send(new iamSdk.DeleteRolePolicyCommand({ RoleName: name, PolicyName: policy }));
    },
    async withoutAuth(work) {
      await setMotoAuth(moto, false);
      try {
        return await work();
      } finally {
        await setMotoAuth(moto, true);
      }
    },
  };
}
