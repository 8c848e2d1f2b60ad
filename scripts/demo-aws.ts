// The demo's AWS account: moto (`vigil setup` installs it) on a free loopback port, holding the billing
// dashboard the SSH exposure alert is about: its security group, its instance and the instance's
// Elastic IP (moto gives those in 127.0.0.0/8, so the demo's machine listens on it, on loopback).
// Vigil reads it through the AWS inventory and proposes remediations against it, as against AWS.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
  ReleaseAddressCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { staticAddresses } from './demo-services';
import { startMotoServer } from './moto-server';

/** The account and region of every demo alert: moto files what the demo makes under this account. */
export const DEMO_ACCOUNT = '111122223333';
export const DEMO_REGION = 'eu-west-1';

/** Keys moto takes from anyone; the demo's worker finds them in its environment, as it would real ones. */
export const DEMO_CREDENTIALS = { accessKeyId: 'AKIADEMO0000VIGIL000', secretAccessKey: 'demo-secret-for-moto-only' };

/** The billing dashboard as AWS knows it. */
export interface DemoMachine {
  groupId: string;
  groupName: string;
  instanceId: string;
  /** Its Elastic IP: in 127.0.0.0/8, where the demo's web page and SSH server listen. */
  address: string;
}

export interface DemoAws {
  endpoint: string;
  machine: DemoMachine;
  /** Opens `ports` (tcp) of the machine to the internet: one ingress rule from 0.0.0.0/0 each, in its group. */
  openToInternet(ports: { port: number; description: string }[]): Promise<void>;
  /** The ids of the group's ingress rules that admit tcp/`port` from 0.0.0.0/0, as EC2 lists them now. */
  internetRules(port: number): Promise<string[]>;
  stop(): Promise<void>;
}

/** Addresses the demo's other machines use (the static inventory's), or no host can take. */
const unusable = (address: string) => staticAddresses.includes(address) || /\.(0|255)$/.test(address);

async function seedMachine(ec2: EC2Client): Promise<DemoMachine> {
  const groupName = 'billing-dashboard';
  const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: groupName, Description: 'billing dashboard: web and SSH' }));
  const { Instances } = await ec2.send(
    new RunInstancesCommand({
      // An image moto knows (it lists a thousand; asking for them costs seconds).
      ImageId: 'ami-12c6146b',
      InstanceType: 't3.micro',
      MinCount: 1,
      MaxCount: 1,
      SecurityGroupIds: [GroupId!],
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'billing-dashboard' }, { Key: 'team', Value: 'billing' }] }],
    }),
  );
  const instanceId = Instances![0]!.InstanceId!;
  // moto draws Elastic IPs at random from 127.0.0.0/8: one another demo machine uses is given back.
  for (;;) {
    const { AllocationId, PublicIp } = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    if (unusable(PublicIp!)) {
      await ec2.send(new ReleaseAddressCommand({ AllocationId }));
      continue;
    }
    await ec2.send(new AssociateAddressCommand({ AllocationId, InstanceId: instanceId }));
    return { groupId: GroupId!, groupName, instanceId, address: PublicIp! };
  }
}

export async function startDemoAws(): Promise<DemoAws> {
  // Its account is set for the moto process alone: the demo's alerts all name the same account.
  const moto = await startMotoServer({ accountId: DEMO_ACCOUNT });
  try {
    const ec2 = new EC2Client({ region: DEMO_REGION, endpoint: moto.endpoint, credentials: DEMO_CREDENTIALS });
    const machine = await seedMachine(ec2);
    return {
      endpoint: moto.endpoint,
      machine,
      async openToInternet(ports) {
        const IpPermissions = ports.map(({ port, description }) => ({ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: description }] }));
        await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: machine.groupId, IpPermissions }));
      },
      async internetRules(port) {
        const { SecurityGroupRules = [] } = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [machine.groupId] }] }));
        return SecurityGroupRules.filter((rule) => !rule.IsEgress && rule.IpProtocol === 'tcp' && rule.FromPort === port && rule.ToPort === port && rule.CidrIpv4 === '0.0.0.0/0').map(
          (rule) => rule.SecurityGroupRuleId!,
        );
      },
      stop: moto.stop,
    };
  } catch (err) {
    await moto.stop();
    throw err;
  }
}

/**
 * The bundled SSH exposure alert (`demo/alerts/01-ssh-open-to-internet.json`, about a group on the
 * static inventory), aimed at the machine in moto: its group, instance, address and SSH port. Written
 * to `dir` under the same name, for the demo to send (and a recording to send again).
 */
export async function aimSshAlert(template: string, dir: string, machine: DemoMachine, sshPort: number): Promise<string> {
  const alert = JSON.parse(await readFile(template, 'utf8')) as Record<string, unknown>;
  const aimed = {
    ...alert,
    // The group's name, not its id: moto gives the group a new id each run, and the investigation keeps its identity.
    id: `demo/security-group/${machine.groupName}/ssh`,
    title: `Security group ${machine.groupId} (${machine.groupName}) allows SSH (${sshPort}/tcp) from 0.0.0.0/0`,
    description: `Rule added by arn:aws:iam::${DEMO_ACCOUNT}:user/ops-alice through the console.\nThe demo's AWS account (moto) has this group on the billing dashboard, whose Elastic IP is on loopback.`,
    cloud: { provider: 'aws', account: DEMO_ACCOUNT, region: DEMO_REGION },
    resources: [
      { type: 'aws:ec2:security-group', id: machine.groupId },
      { type: 'aws:ec2:instance', id: machine.instanceId },
    ],
    network: { ips: [machine.address], cidrs: ['0.0.0.0/0'], ports: [sshPort], protocol: 'tcp' },
  };
  const file = path.join(dir, path.basename(template));
  await writeFile(file, `${JSON.stringify(aimed, null, 2)}\n`);
  return file;
}
