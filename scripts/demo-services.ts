// The machines the demo's exposure alerts are about, on loopback only: the billing dashboard's web
// page and SSH server, the staging admin panel, and one machine for each other bundled exposure
// alert, each on a loopback address of its own; plus the static inventory that says where they are
// (and one metadata address that must be skipped). In the demo, AWS (moto) knows the billing
// dashboard instead: its web page and SSH server listen on its Elastic IP, and the static inventory
// keeps the other machines.
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import ssh2 from 'ssh2';
import { stringify } from 'yaml';

export interface DemoServices {
  webPort: number;
  sshPort: number;
  /** The staging admin panel (on 127.0.0.2) the CloudTrail alert opened; the demo closes it to show a re-check. */
  adminPort: number;
  /** What a remediation does: the rule opening the admin panel is revoked, and the panel stops answering. */
  revokeAdminPanel(): Promise<void>;
  /** The static inventory file describing them. */
  inventoryFile: string;
  stop(): Promise<void>;
}

export interface DemoServicesOptions {
  /**
   * The billing dashboard as the demo's AWS account (moto) has it: its web page and SSH server listen
   * on its Elastic IP, the AWS inventory describes it, and the static inventory's metadata lookalike
   * claims its group. Without it, the static inventory has it on 127.0.0.1 behind `sg-0demo22`.
   */
  billing?: { address: string; groupId: string };
}

const adminPage = `<!doctype html>
<html><head><title>Staging admin</title></head>
<body style="font-family: sans-serif; margin: 3em; background: #fee"><h1>Staging admin</h1><p>No login required.</p></body></html>`;

const page = `<!doctype html>
<html><head><title>Acme billing — internal dashboard</title></head>
<body style="font-family: sans-serif; margin: 3em">
<h1>Acme billing</h1><p>Internal dashboard. Left open to the internet by a security-group change.</p>
</body></html>`;

/**
 * The machines the other bundled exposure alerts name (demo/alerts/SOURCES.md): the static inventory
 * knows each by the ids those alerts use (its security group's ARN, its network ACL, its GCP firewall
 * rule), and each answers on a loopback address of its own, as a web page or an SSH server.
 */
const otherMachines = [
  // securityhub EC2.19: Postgres open to the world; its web console answers.
  {
    id: 'i-0demo0000000000d4',
    name: 'reporting-db',
    account: '111122223333',
    address: '127.0.0.3',
    refs: ['sg-0c0ffee0c0ffee000'],
    rule: 'sg-0c0ffee0c0ffee000 postgres console',
    page: 'Reporting DB — pgweb console',
  },
  // prowler's SSH group and securityhub EC2.21's network ACL.
  {
    id: 'i-0demo0000000000e5',
    name: 'bastion',
    account: '111122223333',
    address: '127.0.0.4',
    refs: ['arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0ssh22open0000000', 'acl-0b1c2d3e4f5a6b7c8'],
    rule: 'bastion-ssh (sg-0ssh22open0000000) ssh',
  },
  // prowler's RDP instance: its Remote Desktop web client answers.
  {
    id: 'i-0abc12345def67890',
    name: 'windows-jump',
    account: '111122223333',
    address: '127.0.0.5',
    refs: ['arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc12345def67890'],
    rule: 'windows-jump rdp web client',
    page: 'Remote Desktop Web Client — windows-jump',
  },
  // scc OPEN_FIREWALL in GCP project test-project: the Cassandra cluster's admin UI answers.
  {
    id: 'cassandra-1',
    name: 'cassandra-1',
    account: 'test-project',
    address: '127.0.0.6',
    refs: ['//compute.googleapis.com/projects/test-project/global/firewalls/4695668982209007936'],
    rule: 'open-cassandra-port-tcp-7199',
    page: 'Cassandra Reaper — cassandra-1',
  },
  // gcp-audit: the firewall rule allow-ssh-anywhere in GCP project vigil-prod, on the bastion tag.
  {
    id: 'gcp-bastion',
    name: 'gcp-bastion',
    account: 'vigil-prod',
    address: '127.0.0.7',
    refs: ['//compute.googleapis.com/projects/vigil-prod/global/firewalls/allow-ssh-anywhere'],
    rule: 'allow-ssh-anywhere',
  },
];

/** Addresses the static inventory's machines listen on: the demo's AWS machine must take another. */
export const staticAddresses = ['127.0.0.1', '127.0.0.2', ...otherMachines.map(({ address }) => address)];

const webPage = (title: string) =>
  `<!doctype html>\n<html><head><title>${title}</title></head>\n<body style="font-family: sans-serif; margin: 3em"><h1>${title}</h1><p>No login required.</p></body></html>`;

const webServer = (html: string, headers: Record<string, string> = {}) =>
  createServer((request, response) => {
    if (request.url !== '/') return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...headers });
    response.end(html);
  });

/** An ed25519 host key pair. ssh2 writes about one key in 300 that its own parser calls malformed: drawn again until it reads. */
export function sshHostKey(): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error)) return pair;
  }
}

function sshServer(): ssh2.Server {
  return new ssh2.Server({ hostKeys: [sshHostKey().private], ident: 'OpenSSH_9.2p1 Debian-2' }, (client) => {
    // Password logins are on, as on the badly configured machines the alerts are about; none succeeds.
    client.on('authentication', (context) => (context.method === 'password' ? context.reject() : context.reject(['password', 'publickey'])));
    client.on('error', () => {});
  });
}

const listen = async (server: Server | ssh2.Server, host = '127.0.0.1') => {
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
};

export async function startDemoServices(dataDir: string, { billing }: DemoServicesOptions = {}): Promise<DemoServices> {
  const web = webServer(page, { server: 'demo-httpd/1.0' });
  const admin = webServer(adminPage);
  const ssh = sshServer();
  const billingAddress = billing?.address ?? '127.0.0.1';
  const billingGroup = billing?.groupId ?? 'sg-0demo22';
  const [webPort, sshPort, adminPort] = [await listen(web, billingAddress), await listen(ssh, billingAddress), await listen(admin, '127.0.0.2')];
  const others = await Promise.all(
    otherMachines.map(async (machine) => {
      const server = machine.page ? webServer(webPage(machine.page)) : sshServer();
      return { ...machine, server, port: await listen(server, machine.address) };
    }),
  );

  const inventoryFile = path.join(dataDir, 'inventory.yaml');
  const account = '111122223333';
  const inventory = (adminOpen: boolean) => ({
    resources: [
      ...(billing
        ? []
        : [
            {
              id: 'i-0demo0000000000a1',
              name: 'billing-dashboard',
              account,
              region: 'eu-west-1',
              addresses: ['127.0.0.1'],
              privateAddresses: ['10.0.1.17'],
              tags: { Name: 'billing-dashboard', team: 'billing' },
              refs: ['sg-0demo22'],
              open: [
                { name: 'sg-0demo22 web', protocol: 'tcp', ports: webPort, sources: ['0.0.0.0/0'] },
                { name: 'sg-0demo22 ssh', protocol: 'tcp', ports: sshPort, sources: ['0.0.0.0/0'] },
              ],
            },
          ]),
      {
        // The security group the CloudTrail demo alert says was opened.
        id: 'i-0demo0000000000c3',
        name: 'staging-admin',
        account,
        region: 'eu-west-1',
        // An address of its own, so that alerts naming 127.0.0.1 are not about it.
        addresses: ['127.0.0.2'],
        refs: ['sg-0a1b2c3d4e5f60718'],
        open: adminOpen ? [{ name: 'sg-0a1b2c3d4e5f60718 admin', protocol: 'tcp', ports: adminPort, sources: ['0.0.0.0/0'] }] : [],
      },
      {
        // A crafted inventory entry (or alert) must never make Vigil touch cloud metadata.
        id: 'i-0demo0000000000b2',
        name: 'metadata-lookalike',
        account,
        region: 'eu-west-1',
        addresses: ['169.254.169.254'],
        refs: [billingGroup],
        open: [{ name: `${billingGroup} web`, protocol: 'tcp', ports: 80, sources: ['0.0.0.0/0'] }],
      },
      ...others.map(({ id, name, account: owner, address, refs, rule, port }) => ({
        id,
        name,
        account: owner,
        ...(owner === account ? { region: 'eu-west-1' } : {}),
        addresses: [address],
        refs,
        open: [{ name: rule, protocol: 'tcp', ports: port, sources: ['0.0.0.0/0'] }],
      })),
    ],
  });
  const writeInventory = (adminOpen: boolean) =>
    writeFile(inventoryFile, `# Written by vigil demo: the demo's machines, on loopback.\n${stringify(inventory(adminOpen))}`);
  await writeInventory(true);

  const closeHttp = (server: Server) => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  };
  const closeAdminPanel = async () => {
    if (admin.listening) await closeHttp(admin);
  };
  return {
    webPort,
    sshPort,
    adminPort,
    inventoryFile,
    async revokeAdminPanel() {
      await writeInventory(false);
      await closeAdminPanel();
    },
    async stop() {
      const closeSsh = (server: ssh2.Server) => new Promise((resolve) => server.close(resolve));
      await Promise.all([
        closeHttp(web),
        closeAdminPanel(),
        closeSsh(ssh),
        ...others.map(({ server }) => (server instanceof ssh2.Server ? closeSsh(server) : closeHttp(server))),
      ]);
    },
  };
}
