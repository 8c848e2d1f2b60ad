// Probe-scope escapes, run inside a network namespace that test/reliability/probe-scope.test.ts
// creates (`unshare --net --mount`, as root). Inside it only loopback exists, so the private,
// metadata, CGNAT, unique-local and public-looking addresses this script adds to `lo` are its own
// test hosts, with listeners that count every connection (and UDP datagram) they receive: nothing
// can leave the machine. It refuses to run anywhere else.
//
// Vigil's probe (checkExposures: the plan and the TCP sweep; the HTTP check's redirects and favicon;
// names from a hosts file mounted here; IPv4-mapped IPv6; decimal, octal and hex spellings) and its
// screenshots (Debian's Chromium behind the scope proxy) are pointed at those hosts, first with the
// scope fenced to 127.0.0.0/8, then with 127.0.0.0/8 allowed and no fence (the range rules alone).
// It prints one line, `SCENARIO-RESULT <json>`: every attempt with what Vigil recorded for it, and
// every listener's count.
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { localBlobStore } from '../../../activities/archive/local';
import { createExposureActivities } from '../../../activities/probe/exposures';
import { createProbeActivities } from '../../../activities/probe';
import type { ProbeScope } from '../../../activities/probe/scope';
import type { ProbeReport, ProbeTarget } from '../../../activities/probe/types';
import { createScreenshotActivities, type ScreenshotResult } from '../../../activities/screenshot';
import { createBrowserPool } from '../../../activities/screenshot/browser-pool';
import type { NormalizedAlert } from '../../../lib/alert';
import { configSchema } from '../../../lib/config';
import { emptyContext, type ResourceContext } from '../../../lib/context';

// ---------------------------------------------------------------------------------------------
// The namespace: proven fresh before anything is added or sent.

function assertFreshNamespace(): void {
  const parent = process.env.VIGIL_PARENT_NETNS;
  const own = readlinkSync('/proc/self/ns/net');
  if (!parent || own === parent) throw new Error(`not in a network namespace of its own (${own}): refusing to run`);
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).trim().split('\n');
  if (links.length !== 1 || !/^\d+: lo:/.test(links[0]!)) throw new Error(`the namespace has other links than lo: ${links.join(' | ')}`);
}

/** Forbidden test hosts: each is an address of this namespace's `lo`, and nothing else. */
const forbiddenV4 = ['10.0.0.5', '169.254.169.254', '100.64.0.1', '192.168.1.1', '172.16.0.1', '203.0.113.10', '93.184.216.34'];
const forbiddenV6 = ['fd00::5', '2001:db8::5', '2606:2800:220:1::5', '::1'];
/** The public-looking unicast addresses: refused by the fence, allowed (and reached) without it. */
const PUBLIC = '93.184.216.34';
const PUBLIC_V6 = '2606:2800:220:1::5';
const PORTS = [80, 443, 22, 8080];
const UDP_PORTS = [53, 3478];

const hostsFile = `127.0.0.1 localhost good.test
::1 localhost ip6-localhost
10.0.0.5 internal.test 127.0.0.08
169.254.169.254 metadata.test metadata.google.internal
100.64.0.1 cgnat.test
192.168.1.1 router.test
203.0.113.10 doc.test
93.184.216.34 public.test
fd00::5 ula.test
10.0.0.5 mixed.test
127.0.0.1 mixed.test
`;

function setUpNetwork(dir: string): void {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  for (const address of forbiddenV4) execFileSync('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo']);
  for (const address of forbiddenV6.filter((address) => address !== '::1')) execFileSync('ip', ['-6', 'addr', 'add', `${address}/128`, 'dev', 'lo', 'nodad']);
  // Names resolve through a hosts file of our own; any other name fails at once (no server answers here).
  const hosts = path.join(dir, 'hosts');
  const resolv = path.join(dir, 'resolv.conf');
  writeFileSync(hosts, hostsFile);
  writeFileSync(resolv, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
  execFileSync('mount', ['--bind', hosts, '/etc/hosts']);
  execFileSync('mount', ['--bind', resolv, '/etc/resolv.conf']);
}

// ---------------------------------------------------------------------------------------------
// Listeners that count.

const counts = new Map<string, number>();
const key = (address: string, port: number, protocol = 'tcp') => `${protocol}/${address.includes(':') ? `[${address}]` : address}:${port}`;
const bump = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);

async function countingListeners(): Promise<void> {
  for (const address of [...forbiddenV4, ...forbiddenV6]) {
    for (const port of PORTS) {
      const name = key(address, port);
      counts.set(name, 0);
      const server =
        port === 80 || port === 8080
          ? http.createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end(`<title>reached ${name}</title>`))
          : net.createServer((socket) => socket.destroy());
      server.on('connection', (socket: net.Socket) => {
        bump(name);
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, address, () => resolve());
      });
    }
    if (!address.includes(':')) {
      for (const port of UDP_PORTS) {
        const name = key(address, port, 'udp');
        counts.set(name, 0);
        const socket = dgram.createSocket('udp4');
        socket.on('message', () => bump(name));
        await new Promise<void>((resolve) => socket.bind(port, address, () => resolve()));
      }
    }
  }
}

async function serve(handler: http.RequestListener, host = '127.0.0.1'): Promise<number> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  return (server.address() as net.AddressInfo).port;
}

// ---------------------------------------------------------------------------------------------
// What Vigil is pointed at.

/** Forbidden hosts as a URL names them: literals, names from the hosts file, odd spellings, mapped forms. */
const forbiddenUrlHosts = [
  ...forbiddenV4,
  ...forbiddenV6.map((address) => `[${address}]`),
  'internal.test',
  'metadata.google.internal',
  'cgnat.test',
  'router.test',
  'ula.test',
  'public.test',
  '[::ffff:10.0.0.5]',
  '[::ffff:a9fe:a9fe]',
  '[0:0:0:0:0:ffff:a00:5]',
  '167772165',
  '0xa000005',
  '012.0.0.05',
  '10.5',
  '0251.0376.0251.0376',
  '2852039166',
];

/** Forbidden hosts as a probe target's address names them (names resolve at connect time). */
const forbiddenTargetHosts = [
  ...forbiddenV4,
  ...forbiddenV6,
  'internal.test',
  'metadata.google.internal',
  'metadata.test',
  'cgnat.test',
  'router.test',
  'doc.test',
  'ula.test',
  'public.test',
  '127.0.0.08',
  '::ffff:10.0.0.5',
  '::ffff:a9fe:a9fe',
  '[::ffff:10.0.0.5]',
  '0:0:0:0:0:ffff:a00:5',
  '::ffff:169.254.169.254',
  '::10.0.0.5',
  '167772165',
  '0xa000005',
  '012.0.0.05',
  '0xa.0.0.5',
  '10.5',
  '2852039166',
  '0251.0376.0251.0376',
  '0.0.0.0',
  '::',
  'no-such-name.test',
];

interface Attempt {
  phase: string;
  path: 'plan' | 'probe' | 'redirect' | 'favicon' | 'screenshot' | 'subresource';
  target: string;
  /** What Vigil recorded about it: the skipped target's reason, the stopped redirect, the blocked request. */
  recorded?: string;
  /** A finding Vigil made of the target (it was contacted, as far as Vigil says). */
  contacted?: string;
}

const attempts: Attempt[] = [];

function settings(extra: object = {}) {
  return {
    ...configSchema.parse({}).probe,
    connectTimeoutMs: 1000,
    serviceTimeoutMs: 3000,
    // Addresses named only by the alert reach the scope check instead of stopping at "not confirmed".
    extraTargets: ['0.0.0.0/0', '::/0'],
    ...extra,
  };
}


function recordReport(phase: string, report: ProbeReport, targets: { target: string; path: Attempt['path'] }[]): void {
  for (const { target, path: where } of targets) {
    const skipped = report.skipped.find((entry) => entry.target === target || entry.target.startsWith(`${target} `));
    const finding = report.findings.find((entry) => entry.target === target);
    attempts.push({ phase, path: where, target, ...(skipped ? { recorded: skipped.reason } : {}), ...(finding ? { contacted: `${finding.check} ${finding.status}` } : {}) });
  }
}

const endpointOf = (address: string, port: number) => (address.replace(/^\[|\]$/g, '').includes(':') ? `[${address.replace(/^\[|\]$/g, '')}]:${port}` : `${address}:${port}`);

async function probePhase(phase: string, scope: ProbeScope): Promise<{ reachedPublic: boolean }> {
  // 1. checkExposures: what an inventory "confirmed" and what the alert names, through the plan.
  const exposures = createExposureActivities(settings(), scope, { screenshots: true });
  const addresses = [...forbiddenV4, ...forbiddenV6];
  const context: ResourceContext = {
    ...emptyContext(),
    consulted: ['static'],
    exposures: addresses.map((address) => ({ instance: `i-${address}`, address, protocol: 'tcp', ports: { from: 80, to: 80 }, rule: 'sg-open/ingress/0' })),
  };
  const alert: NormalizedAlert = {
    kind: 'exposure',
    fingerprint: `probe-scope-${phase}`,
    title: 'probe scope escape',
    severity: 'high',
    resources: [],
    network: { ips: addresses, cidrs: ['0.0.0.0/0'], ports: [{ from: 22, to: 22 }, { from: 8080, to: 8080 }] },
    actors: { ips: [], domains: [], principals: [], userAgents: [] },
    source: 'generic',
    archive: { id: 'x', sha256: '0'.repeat(64), receivedAt: new Date().toISOString() },
  };
  const planned = await exposures.checkExposures({ alert, context });
  recordReport(phase, planned, [
    ...addresses.map((address) => ({ target: endpointOf(address, 80), path: 'plan' as const })),
    ...addresses.flatMap((address) => [22, 8080].map((port) => ({ target: endpointOf(address, port), path: 'plan' as const }))),
  ]);

  // 2. probeTargets with names and odd spellings, resolved and checked at connect time.
  const { probeTargets } = createProbeActivities(settings(), scope);
  const targets: ProbeTarget[] = forbiddenTargetHosts.flatMap((address) => PORTS.map((port) => ({ address, port })));
  const probed = await probeTargets({ targets });
  recordReport(phase, probed, targets.map(({ address, port }) => ({ target: endpointOf(address, port), path: 'probe' as const })));

  // 3. Redirects and declared icons from an allowed web server to every forbidden host.
  const redirects: { port: number; url: string }[] = [];
  for (const host of forbiddenUrlHosts) {
    for (const url of [`http://${host}/`, `https://${host}/latest/meta-data/`, `http://${host}:8080/x`]) {
      const port = await serve((request, response) => {
        if (request.url === '/') response.writeHead(302, { location: url }).end();
        else response.writeHead(302, { location: url }).end();
      });
      redirects.push({ port, url });
    }
    const iconPage = await serve((request, response) => {
      if (request.url === '/') response.writeHead(200, { 'content-type': 'text/html' }).end(`<title>icon</title><link rel="icon" href="http://${host}/favicon.ico">`);
      else response.writeHead(404).end();
    });
    redirects.push({ port: iconPage, url: `icon:http://${host}/favicon.ico` });
  }
  // Locations that parsers read differently: userinfo, backslashes, scheme-relative, hex octets.
  for (const location of [
    'http://127.0.0.1@10.0.0.5/',
    'http://127.0.0.1:80@169.254.169.254/',
    '//10.0.0.5/',
    '/\\10.0.0.5/',
    'http:\\\\169.254.169.254\\latest',
    'http://0x0a.0x00.0x00.0x05/',
    'http://10.0.0.5./',
    'http://[::ffff:0a00:0005]/',
    'http://internal.test./',
    'http://metadata.google.internal:80/computeMetadata/v1/',
  ]) {
    const port = await serve((_request, response) => response.writeHead(302, { location }).end());
    redirects.push({ port, url: location });
  }
  // A chain that stays on loopback for two hops first.
  const last = await serve((_request, response) => response.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/iam/' }).end());
  const middle = await serve((_request, response) => response.writeHead(301, { location: `http://127.0.0.1:${last}/` }).end());
  redirects.push({ port: middle, url: 'chain:http://169.254.169.254/latest/meta-data/iam/' });
  const web = await probeTargets({ targets: redirects.map(({ port }) => ({ address: '127.0.0.1', port })) });
  for (const { port, url } of redirects) {
    const finding = web.findings.find((entry) => entry.check === 'http' && entry.target === `127.0.0.1:${port}`);
    const isIcon = url.startsWith('icon:');
    const favicon = (finding?.detail as { favicon?: { note?: string } } | undefined)?.favicon;
    attempts.push({
      phase,
      path: isIcon ? 'favicon' : 'redirect',
      target: url.replace(/^(icon|chain):/, ''),
      ...(isIcon
        ? favicon?.note
          ? { recorded: favicon.note }
          : {}
        : finding?.fields.redirectStopped
          ? { recorded: String(finding.fields.redirectStopped) }
          : {}),
      ...(finding ? {} : { contacted: 'no http finding for the redirector' }),
    });
  }

  const reachedPublic = probed.findings.some((finding) => finding.target === `${PUBLIC}:80` && finding.check === 'tcp' && finding.status === 'open');
  return { reachedPublic };
}

// ---------------------------------------------------------------------------------------------
// Screenshots: Debian's Chromium, every connection through the scope proxy.

function hostilePage(origin: string): string {
  const resources = forbiddenUrlHosts
    .map((host) => {
      const base = `http://${host}`;
      return `<img src="${base}/a.png"><script src="${base}/b.js"></script><iframe src="${base}/frame"></iframe>
<link rel="stylesheet" href="${base}/c.css"><link rel="preconnect" href="${base}"><link rel="dns-prefetch" href="${base}">
<link rel="prefetch" href="${base}/p"><video src="${base}:8080/v.mp4"></video><object data="https://${host}/o"></object>
<div style="background:url(${base}:8080/bg.png)">x</div>`;
    })
    .join('\n');
  const scripted = JSON.stringify(forbiddenUrlHosts);
  return `<title>hostile page on ${origin}</title>${resources}
<script>
for (const host of ${scripted}) {
  fetch('http://' + host + '/f').catch(() => {});
  fetch('https://' + host + '/f').catch(() => {});
  try { new WebSocket('ws://' + host + ':8080/ws'); } catch {}
  try { new WebSocket('wss://' + host + '/ws'); } catch {}
  try { new EventSource('http://' + host + '/es'); } catch {}
  try { navigator.sendBeacon('http://' + host + '/beacon', 'x'); } catch {}
}
try {
  const pc = new RTCPeerConnection({ iceServers: [{ urls: ['stun:10.0.0.5:3478', 'stun:169.254.169.254:3478', 'turn:10.0.0.5:3478?transport=udp'], username: 'u', credential: 'c' }] });
  pc.createDataChannel('x');
  pc.createOffer().then((offer) => pc.setLocalDescription(offer)).catch(() => {});
} catch {}
</script>`;
}

const viaHosts = new Set(['10.0.0.5', '169.254.169.254', 'metadata.google.internal', '[::ffff:10.0.0.5]', '0xa000005', '[fd00::5]', '[::1]', '100.64.0.1']);

async function screenshotPhase(phase: string, scope: ProbeScope, dir: string): Promise<{ capturedOwnPage: boolean; capturedPublic?: boolean }> {
  const screenshotSettings = configSchema.parse({ screenshots: { timeoutMs: 8000, chromium: '/usr/bin/chromium', viewport: { width: 640, height: 400 } } }).screenshots;
  const pool = createBrowserPool({ settings: screenshotSettings, executablePath: '/usr/bin/chromium', scope });
  const { takeScreenshot } = createScreenshotActivities({ settings: screenshotSettings, scope, artifacts: localBlobStore(path.join(dir, `artifacts-${phase}`)), pool });
  const shoot = (url: string) => new MockActivityEnvironment().run(takeScreenshot, { url }) as Promise<ScreenshotResult>;
  try {
    const own = await serve((request, response) => {
      if (request.url === '/') response.writeHead(200, { 'content-type': 'text/html' }).end(hostilePage('127.0.0.1'));
      else if (request.url?.startsWith('/to/')) response.writeHead(302, { location: decodeURIComponent(request.url.slice(4)) }).end();
      else if (request.url?.startsWith('/refresh/')) {
        response.writeHead(200, { 'content-type': 'text/html' }).end(`<meta http-equiv="refresh" content="0;url=${decodeURIComponent(request.url.slice(9))}"><title>refresh</title>`);
      } else if (request.url?.startsWith('/js/')) {
        response.writeHead(200, { 'content-type': 'text/html' }).end(`<title>js</title><script>location.href = ${JSON.stringify(decodeURIComponent(request.url.slice(4)))}</script>`);
      } else response.writeHead(404).end();
    });
    const origin = `http://127.0.0.1:${own}`;

    // The page itself: captured, every forbidden sub-resource blocked.
    const page = await shoot(`${origin}/`);
    const blocked = (page.finding.detail as { blocked?: { url: string; reason: string }[] } | undefined)?.blocked ?? [];
    attempts.push({
      phase,
      path: 'subresource',
      target: `${origin}/ (${forbiddenUrlHosts.length} hosts × img, script, iframe, css, preconnect, prefetch, video, object, fetch, WebSocket, EventSource, beacon, WebRTC)`,
      recorded: `${page.finding.status}: ${String(page.finding.fields.blockedRequests)} blocked${blocked[0] ? `, e.g. ${blocked[0].url}: ${blocked[0].reason}` : ''}`,
    });

    // Forbidden pages named directly, and reached by a redirect, a meta refresh or script.
    for (const host of forbiddenUrlHosts) {
      for (const url of [`http://${host}/`, `https://${host}/`]) {
        const direct = await shoot(url);
        attempts.push({ phase, path: 'screenshot', target: url, ...(direct.finding.status === 'blocked' ? { recorded: String(direct.finding.fields.reason) } : { contacted: `screenshot ${direct.finding.status}` }) });
      }
      // Through the page itself (a redirect, a meta refresh, script): a few hosts of each kind, since
      // each of these is a page load.
      if (!viaHosts.has(host)) continue;
      for (const via of ['to', 'refresh', 'js']) {
        const url = `http://${host}:8080/`;
        const result = await shoot(`${origin}/${via}/${encodeURIComponent(url)}`);
        const reason = result.finding.fields.reason ?? ((result.finding.detail as { blocked?: { reason: string }[] } | undefined)?.blocked?.[0]?.reason);
        attempts.push({
          phase,
          path: 'screenshot',
          target: `${via}: ${url}`,
          ...(reason ? { recorded: `${result.finding.status}: ${String(reason)}` } : { contacted: `screenshot ${result.finding.status} ${String(result.finding.fields.finalUrl)}` }),
        });
      }
    }

    const capturedOwnPage = page.finding.status === 'captured';
    if (scope.onlyRanges.length > 0) return { capturedOwnPage };
    // Without the fence, the public-looking host is allowed: proof that the listeners do see a browser.
    const reached = await shoot(`http://${PUBLIC}/`);
    return { capturedOwnPage, capturedPublic: reached.finding.status === 'captured' };
  } finally {
    await pool.close();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  assertFreshNamespace();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-probe-scope-'));
  setUpNetwork(dir);
  await countingListeners();
  const snapshot = () => Object.fromEntries(counts);
  const reset = () => {
    for (const name of counts.keys()) counts.set(name, 0);
  };

  const fenced: ProbeScope = { allowRanges: ['127.0.0.0/8'], onlyRanges: ['127.0.0.0/8'] };
  const unfenced: ProbeScope = { allowRanges: ['127.0.0.0/8'], onlyRanges: [] };
  let probeFenced, shotsFenced, countsFenced, probeUnfenced, shotsUnfenced, countsUnfenced;
  try {
    probeFenced = await probePhase('fenced', fenced);
    shotsFenced = await screenshotPhase('fenced', fenced, dir);
    countsFenced = snapshot();
    reset();
    probeUnfenced = await probePhase('unfenced', unfenced);
    shotsUnfenced = await screenshotPhase('unfenced', unfenced, dir);
    countsUnfenced = snapshot();
  } finally {
    // /tmp is the machine's own: the mounts end with the namespace, the files would not.
    rmSync(dir, { recursive: true, force: true });
  }

  const result = {
    hosts: readFileSync('/etc/hosts', 'utf8') === hostsFile,
    /** Allowed without the fence: their listeners must see connections then (the control). */
    publicListeners: [...counts.keys()].filter((name) => name.includes(PUBLIC) || name.includes(PUBLIC_V6)),
    phases: {
      fenced: { counts: countsFenced, ...probeFenced, ...shotsFenced },
      unfenced: { counts: countsUnfenced, ...probeUnfenced, ...shotsUnfenced },
    },
    attempts,
  };
  process.stdout.write(`SCENARIO-RESULT ${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`scenario failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
