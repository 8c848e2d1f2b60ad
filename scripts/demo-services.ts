// The machines the demo's exposure alert is about: a web page and an SSH server, on loopback only,
// plus the static inventory that says where they are (and one metadata address that must be skipped).
// In the demo, AWS (moto) knows the billing dashboard instead: its web page and SSH server listen on
// its Elastic IP, and the static inventory keeps the other machines.
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

const listen = async (server: Server | ssh2.Server, host = '127.0.0.1') => {
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
};

export async function startDemoServices(dataDir: string, { billing }: DemoServicesOptions = {}): Promise<DemoServices> {
  const web = createServer((request, response) => {
    if (request.url !== '/') return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', server: 'demo-httpd/1.0' });
    response.end(page);
  });
  const admin = createServer((request, response) => {
    if (request.url !== '/') return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(adminPage);
  });
  const hostKey = ssh2.utils.generateKeyPairSync('ed25519').private;
  const ssh = new ssh2.Server({ hostKeys: [hostKey], ident: 'OpenSSH_9.2p1 Debian-2' }, (client) => {
    // Password logins are on, as on the badly configured machine the alert is about; none succeeds.
    client.on('authentication', (context) => (context.method === 'password' ? context.reject() : context.reject(['password', 'publickey'])));
    client.on('error', () => {});
  });
  const billingAddress = billing?.address ?? '127.0.0.1';
  const billingGroup = billing?.groupId ?? 'sg-0demo22';
  const [webPort, sshPort, adminPort] = [await listen(web, billingAddress), await listen(ssh, billingAddress), await listen(admin, '127.0.0.2')];

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
      await Promise.all([closeHttp(web), closeAdminPanel(), new Promise((resolve) => ssh.close(resolve))]);
    },
  };
}
