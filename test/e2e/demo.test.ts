// `vigil demo --once --json`, the README's front door, run as a user runs it.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { descendants, runVigil, survivors } from '../helpers/processes';

interface DemoIssue {
  number: number;
  title: string;
  state: string;
  labels: string[];
  body: string;
  comments: { body: string }[];
  evidence: { path: string; contentType: string }[];
}

/** moto, Temporal, the worker and Chromium start and stop within it even on a busy 2-core machine. */
const DEMO_TIMEOUT_MS = 360_000;

async function runDemo(args: string[]) {
  const demo = runVigil(['demo', '--once', '--json', ...args]);
  let children: number[] = [];
  // Sample the processes the demo starts while it runs, to check afterwards that none is left.
  const sampler = setInterval(() => {
    children = [...new Set([...children, ...descendants(demo.child.pid!)])];
  }, 200);
  // Stopped before the test's own timeout, so that a demo stuck on a step still shows its output.
  const stuck = setTimeout(() => demo.child.kill('SIGTERM'), DEMO_TIMEOUT_MS - 30_000);
  const code = await demo.exited;
  clearTimeout(stuck);
  clearInterval(sampler);
  const output = demo.output();
  // A demo that failed prints no JSON: what it printed says why.
  expect(code, `vigil demo exited with ${code}; its output:\n${output}`).toBe(0);
  const json = output.indexOf('{\n  "issues"');
  expect(json, `vigil demo printed no JSON; its output:\n${output}`).toBeGreaterThanOrEqual(0);
  return { output, children, issues: (JSON.parse(output.slice(json)) as { issues: DemoIssue[] }).issues };
}

/** Every exposure issue is about a machine of the demo's inventory, probed on loopback, with evidence. */
function expectProbedMachines(issues: DemoIssue[]): void {
  const exposures = issues.filter((issue) => issue.labels.includes('kind:exposure'));
  expect(exposures.length).toBeGreaterThanOrEqual(7);
  for (const { title, comments, evidence } of exposures) {
    const bodies = comments.map((comment) => comment.body);
    expect(bodies.join('\n'), title).not.toContain('Nothing was probed');
    expect(bodies.find((body) => body.startsWith('### Affected resources')), title).toMatch(/^### Affected resources\n\n\d+ machine\(s\) in the inventory/);
    const checks = bodies.find((body) => body.startsWith('### Exposure checks'));
    expect(checks, title).toMatch(/^### Exposure checks\n\n\d+ endpoint\(s\) probed: \*\*[1-9]\d* open\*\*/);
    // Every endpoint probed is on loopback, and every web page that answered has its screenshot.
    for (const [, address] of checks!.matchAll(/^\| `([\d.]+):\d+` \| `open` \|/gm)) expect(address, title).toMatch(/^127\./);
    const pages = [...checks!.matchAll(/^\| `[\d.:]+` \| `answered` \| `http` \|/gm)].length;
    expect(evidence.filter(({ contentType }) => contentType === 'image/png').length, title).toBe(pages);
  }
}

describe('vigil demo --once --json', () => {
  it('reports every bundled demo alert, prints the issues and leaves nothing running', async () => {
    const { output, children, issues } = await runDemo([]);
    expect(output).toMatch(/Issues: {7}(http:\/\/127\.0\.0\.1:\d+)\/issues {2}\(log in at \1\/login with the intake token below\)/);
    expect(children.length).toBeGreaterThan(0);
    expect(await survivors(children)).toEqual([]);

    for (const issue of issues) {
      expect(issue.state).toBe('open');
      expect(issue.comments.length).toBeGreaterThan(0);
    }
    expectProbedMachines(issues);
    // The SSH exposure alert, aimed at the billing dashboard in the demo's AWS account (moto): a web
    // page and an SSH server on its Elastic IP (on loopback), and a metadata address the static
    // inventory puts behind the same group, which must be skipped.
    const [, group, address, sshPort] = /the billing dashboard (sg-[0-9a-f]+) in AWS \(moto at http:\/\/127\.0\.0\.1:\d+\): web page on (127\.[\d.]+):\d+, SSH on \2:(\d+)\)/.exec(output)!;
    const exposed = issues.find((issue) => issue.title.includes('(billing-dashboard) allows SSH'))!;
    expect(exposed.title).toBe(`[high] Security group ${group} (billing-dashboard) allows SSH (${sshPort}/tcp) from 0.0.0.0/0`);
    const [, resources, checks] = exposed.comments.map((comment) => comment.body);
    expect(resources).toMatch(/^### Affected resources\n\n2 machine\(s\) in the inventory \(`aws`, `static`\)/);
    expect(resources).toMatch(new RegExp(`\\| \`i-[0-9a-f]+\` \\| \`billing-dashboard\` \\| \`111122223333\` \\| \`eu-west-1\` \\| \`${address!.replaceAll('.', '\\.')}\` \\|`));
    expect(resources).toContain(`| \`${address}\` | \`tcp\` | \`${sshPort}\` | \`billing-dashboard (${group}) tcp ${sshPort}\` | \`0.0.0.0/0\` |`);
    expect(checks).toMatch(/^### Exposure checks\n\n2 endpoint\(s\) probed: \*\*2 open\*\*/);
    expect(checks).toMatch(/\| `answered` \| `http` \| `200` \|.*`Acme billing — internal dashboard`/);
    expect(checks).toMatch(/\| `password-allowed` \| `OpenSSH_9\.2p1 Debian-2` \|/);
    expect(checks).toMatch(/!\[screenshot-[0-9a-f]{16}\.png\]/);
    expect(checks).toContain('| `169.254.169.254:80` | `a link-local address (cloud metadata lives here), not allowed by probe.allowRanges` |');
    expect(exposed.evidence).toEqual([{ path: expect.stringMatching(/screenshot-[0-9a-f]{16}\.png$/), contentType: 'image/png' }]);
    expect(exposed.labels).toContain('exposure:open');
    // The response, shown: a plan for each rule that opened an answering endpoint, read from moto;
    // demo-alice asks for the SSH one and demo-bob approves it through the comment API; it is carried
    // out in dry run, and the rule is still in moto afterwards.
    const bodies = exposed.comments.map((comment) => comment.body);
    const proposal = bodies.find((body) => body.startsWith('### Proposed remediation'))!;
    expect(proposal).toContain('**DRY RUN** (`response.dryRun`)');
    const ssh = new RegExp(`#### \`(p\\d+)\`: \`Revoke tcp/${sshPort} from 0\\.0\\.0\\.0/0 on ${group} \\(billing-dashboard\\)\`\n\nThe API call:\n\n\`\`\`text\n(ec2:RevokeSecurityGroupIngress GroupId=${group} SecurityGroupRuleIds=(sgr-[0-9a-f]+))\n`).exec(proposal);
    expect(ssh, 'a plan revoking the SSH rule').not.toBeNull();
    const [, plan, apiCall, rule] = ssh!;
    expect(plan).toBe('p1');
    expect(proposal).toContain('- **Ask** (`/vigil remediate <plan>`, `/vigil cancel <plan>`): `demo-alice`');
    expect(output).toContain(`demo-alice asked for p1 (Revoke tcp/${sshPort} from 0.0.0.0/0 on ${group} (billing-dashboard)) and demo-bob approved it: executed in dry run (${apiCall})`);
    const step = (heading: string) => bodies.find((body) => body.startsWith(heading));
    expect(bodies).toContain('/vigil remediate p1');
    expect(bodies).toContain('/vigil approve p1');
    expect(step('### Remediation `p1`: requested by @demo-alice')).toBeDefined();
    expect(step('### Remediation `p1`: approved by @demo-bob')).toContain('Carrying it out in dry run.');
    const executed = step('### Remediation `p1`: executed (DRY RUN)')!;
    expect(executed).toContain('- **Outcome**: **DRY RUN: nothing was changed**; this is what would have been done');
    expect(executed).toContain(`\`\`\`text\n${apiCall}\n\`\`\``);
    // moto, read by the demo after the execution, still has the rule the plan names.
    expect(output).toContain(`dry run: ${group} still has its rule ${rule} admitting tcp/${sshPort} from 0.0.0.0/0`);
    // The watch, shown: the rule opening the staging admin panel revoked and the panel closed, two
    // re-checks asked for → one change comment, the remediated label, and nothing from the second.
    const remediated = issues.find((issue) => issue.title.includes('sg-0a1b2c3d4e5f60718'))!;
    const headings = remediated.comments.map((comment) => comment.body.split('\n')[0]);
    expect(headings.filter((heading) => heading!.startsWith('### Re-check'))).toEqual(['### Re-check 1: something changed']);
    expect(headings.at(-1)).toBe('### Remediated');
    // The rule is revoked in the inventory: the exposure is gone, and the machine, still there, is
    // asked again on the port it answered on: closed now.
    const change = remediated.comments.at(-2)!.body;
    expect(change).toMatch(/\*\*Removed\*\* \(\d+\)\n\n- `inventory\/127\.0\.0\.2\/tcp\/\d+` \(was `exposed`\)\n/);
    expect(change).toMatch(/- `tcp` `127\.0\.0\.2:\d+`: `open` → `closed`/);
    expect(remediated.labels).toContain('exposure:remediated');
    expect(remediated.labels).not.toContain('exposure:open');
    const labels = new Set(issues.flatMap((issue) => issue.labels));
    for (const source of ['generic', 'guardduty', 'cloudtrail', 'securityhub', 'prowler', 'scc', 'gcp-audit', 'auto']) {
      expect(labels, `an issue from ${source}`).toContain(`source:${source}`);
    }
    for (const kind of ['exposure', 'actor', 'resource', 'unparsed']) expect(labels).toContain(`kind:${kind}`);
    // The demo's Sigma rules (demo/sigma) found the CloudTrail and GCP audit alerts too.
    const opened = issues.find((issue) => issue.labels.includes('source:cloudtrail'))!;
    expect(opened.labels).toEqual(expect.arrayContaining(['attack:initial-access', 'attack:T1190']));
    expect(opened.comments[0]!.body).toContain('Sigma rule `Ingress/Egress Security Group Modification` (`6fb77778-040f-4015-9440-572aa9b6b580`, level `medium`)');
    const firewall = issues.find((issue) => issue.labels.includes('source:gcp-audit'))!;
    expect(firewall.comments[0]!.body).toContain('Sigma rule `Google Cloud Compute Firewall Ingress Allow All SSH`');
    const hostile = issues.find((issue) => issue.labels.includes('kind:resource') && issue.title.includes('onerror'))!;
    expect(hostile.title).toBe('[low] <img src=x onerror=alert(1)> @\u2060security-team urgent, see #\u20601');
    expect(hostile.comments[0]!.body).toContain('````text\n');
    expect(hostile.comments[0]!.body).toContain('`` `web-1` | <b>bold</b> @ops ``');
    // The bundled feed snapshot makes the console login's address a Tor exit, offline.
    const login = issues.find((issue) => issue.title.includes('Console sign-in without MFA'))!;
    expect(login.comments.map((comment) => comment.body).join('\n')).toContain('- `198.51.100.23`: **suspicious** — `tor-exits`');
    const unparsed = issues.find((issue) => issue.labels.includes('kind:unparsed'))!;
    expect(unparsed.comments[0]!.body).toContain('no known source recognises this payload');

    const dataDir = /data folder is kept: (\S+)/.exec(output)?.[1];
    expect(dataDir && existsSync(path.join(dataDir, 'tracker', 'issues', '1.json'))).toBe(true);
    await rm(dataDir!, { recursive: true, force: true });
  }, DEMO_TIMEOUT_MS);

  it('sends the files of --alerts DIR instead, detecting their source', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-demo-alerts-'));
    await writeFile(path.join(dir, 'mine.json'), JSON.stringify({ title: 'My own alert', severity: 'critical' }));
    await writeFile(path.join(dir, 'notes.txt'), 'not an alert file');
    const { issues } = await runDemo(['--alerts', dir]);
    expect(issues.map((issue) => issue.title)).toEqual(['[critical] My own alert']);
  }, DEMO_TIMEOUT_MS);
});
