// Service checks against real protocol speakers on loopback: an ssh2 SSH server, and small
// responders that speak the real wire formats of Redis (RESP), PostgreSQL, MySQL, MongoDB (OP_MSG
// and BSON), RDP (X.224 negotiation), Elasticsearch, Docker and Kubernetes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerCheck } from '../../activities/probe/checks/docker';
import { elasticsearchCheck } from '../../activities/probe/checks/elasticsearch';
import { kubernetesCheck } from '../../activities/probe/checks/kubernetes';
import { mongodbCheck } from '../../activities/probe/checks/mongodb';
import { mysqlCheck } from '../../activities/probe/checks/mysql';
import { postgresCheck } from '../../activities/probe/checks/postgres';
import { rdpCheck } from '../../activities/probe/checks/rdp';
import { redisCheck } from '../../activities/probe/checks/redis';
import { sshCheck } from '../../activities/probe/checks/ssh';
import { sshHostKey } from '../../scripts/demo-services';
import { makeCertificate, type TestCertificate } from '../helpers/certificates';
import { checkContext, close, listen } from '../helpers/loopback';

const servers: (net.Server | HttpServer)[] = [];
async function start(server: net.Server | HttpServer): Promise<number> {
  servers.push(server);
  return listen(server);
}
afterAll(() => Promise.all(servers.map(close)));
const at = (port: number) => ({ address: '127.0.0.1', port });

let certificate: TestCertificate;
beforeAll(() => {
  certificate = makeCertificate({ commonName: 'service.test', subjectAltName: 'IP:127.0.0.1' });
});

describe('SSH', () => {
  const hostKey = sshHostKey();
  /** The fingerprint as OpenSSH itself prints it. */
  const expectedFingerprint = () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'vigil-ssh-')), 'host.pub');
    writeFileSync(file, `${hostKey.public}\n`);
    return execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file]).toString().split(' ')[1];
  };
  const algorithms = {
    kex: ['curve25519-sha256', 'ecdh-sha2-nistp256'],
    cipher: ['aes128-gcm@openssh.com', 'aes256-ctr'],
    hmac: ['hmac-sha2-256', 'hmac-sha1'],
    serverHostKey: ['ssh-ed25519'],
    compress: ['none'],
  } satisfies ssh2.Algorithms;

  async function sshServer(onNone: 'password' | 'keys' | 'accept') {
    const attempts: string[] = [];
    const server = new ssh2.Server({ hostKeys: [hostKey.private], ident: 'OpenSSH_9.6', algorithms }, (client) => {
      client.on('error', () => {});
      client.on('authentication', (context) => {
        attempts.push(`${context.method}:${context.username}`);
        if (onNone === 'accept') context.accept();
        else context.reject(onNone === 'password' ? ['publickey', 'password', 'keyboard-interactive'] : ['publickey']);
      });
    });
    return { port: await start(server), attempts };
  }

  it('reads the version, offered algorithms, host key and the auth methods a stranger is offered', async () => {
    const { port, attempts } = await sshServer('password');
    const [finding] = await sshCheck.run(at(port), checkContext());
    expect(finding).toMatchObject({
      key: `ssh/127.0.0.1:${port}`,
      status: 'password-allowed',
      fields: { software: 'OpenSSH_9.6', hostKeyType: 'ssh-ed25519', hostKeyFingerprint: expectedFingerprint(), password: true, keyboardInteractive: true, unauthenticated: false },
      detail: {
        identification: 'SSH-2.0-OpenSSH_9.6',
        authMethods: ['publickey', 'password', 'keyboard-interactive'],
        algorithms: { kex: expect.arrayContaining(algorithms.kex), hostKey: ['ssh-ed25519'], ciphers: algorithms.cipher, macs: algorithms.hmac, compression: ['none'] },
      },
    });
    expect(attempts).toEqual(['none:vigil']);
  });

  it('tells a key-only server apart', async () => {
    const { port } = await sshServer('keys');
    const [finding] = await sshCheck.run(at(port), checkContext());
    expect(finding).toMatchObject({ status: 'keys-only', fields: { password: false, keyboardInteractive: false, unauthenticated: false } });
  });

  it('flags a server that lets the `none` method in', async () => {
    const { port } = await sshServer('accept');
    const [finding] = await sshCheck.run(at(port), checkContext());
    expect(finding).toMatchObject({ status: 'unauthenticated', fields: { unauthenticated: true } });
  });

  it('attempts no authentication at all when probe.sshAuthMethods is off', async () => {
    const { port, attempts } = await sshServer('password');
    const [finding] = await sshCheck.run(at(port), checkContext({ sshAuthMethods: false }));
    expect(finding).toMatchObject({ status: 'answered', fields: { hostKeyFingerprint: expectedFingerprint(), password: null, unauthenticated: null } });
    expect(attempts).toEqual([]);
  });

  it('gives no finding for a port that is not SSH', async () => {
    const port = await start(net.createServer((socket) => socket.end('220 smtp.example ESMTP\r\n')));
    expect(await sshCheck.run(at(port), checkContext())).toEqual([]);
  });
});

/** A responder that answers each chunk it receives with `reply(chunk)` (undefined: say nothing). */
function responder(reply: (chunk: Buffer, socket: net.Socket) => Buffer | string | undefined, greeting?: Buffer) {
  return net.createServer((socket) => {
    if (greeting) socket.write(greeting);
    socket.on('data', (chunk) => {
      const answer = reply(chunk, socket);
      if (answer !== undefined) socket.write(answer);
    });
    socket.on('error', () => {});
  });
}

describe('Redis (RESP responder)', () => {
  const redis = (password: boolean) =>
    responder((chunk) => {
      const command = chunk.toString();
      if (password) return '-NOAUTH Authentication required.\r\n';
      if (command.includes('PING')) return '+PONG\r\n';
      const info = '# Server\r\nredis_version:7.2.4\r\nredis_mode:standalone\r\n';
      if (command.includes('INFO')) return `$${Buffer.byteLength(info)}\r\n${info}\r\n`;
      return '-ERR unknown command\r\n';
    });

  it('answers without AUTH: unauthenticated, with its version', async () => {
    const port = await start(redis(false));
    expect(await redisCheck.run(at(port), checkContext())).toEqual([
      { key: `redis/127.0.0.1:${port}`, check: 'redis', target: `127.0.0.1:${port}`, status: 'unauthenticated', fields: { unauthenticated: true, version: '7.2.4' }, detail: { reply: '+PONG', mode: 'standalone' } },
    ]);
  });

  it('NOAUTH: authentication required', async () => {
    const port = await start(redis(true));
    const [finding] = await redisCheck.run(at(port), checkContext());
    expect(finding).toMatchObject({ status: 'auth-required', fields: { unauthenticated: false, version: null }, detail: { reply: '-NOAUTH Authentication required.' } });
  });

  it('a service that accepts and never answers times out', async () => {
    const port = await start(net.createServer(() => {}));
    await expect(redisCheck.run(at(port), checkContext({ serviceTimeoutMs: 300 }))).rejects.toThrow(/timed out after 300 ms/);
  });
});

describe('PostgreSQL (wire protocol responder)', () => {
  const message = (type: string, body: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length + 4);
    return Buffer.concat([Buffer.from(type), length, body]);
  };
  const int32 = (value: number) => {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(value);
    return out;
  };
  const users: string[] = [];
  /** Answers SSLRequest with `offerTls ? S : N`, then the startup message with the given method. */
  function postgres(method: 'trust' | 'md5', offerTls: boolean) {
    const startup = (socket: net.Socket | tls.TLSSocket) =>
      socket.once('data', (chunk: Buffer) => {
        users.push(chunk.toString('utf8', 8).split('\0')[1]!);
        if (method === 'md5') socket.write(message('R', Buffer.concat([int32(5), Buffer.from([1, 2, 3, 4])])));
        else socket.write(Buffer.concat([message('R', int32(0)), message('S', Buffer.from('server_version\x0016.2\0')), message('Z', Buffer.from('I'))]));
      });
    return net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', (chunk) => {
        if (chunk.readUInt32BE(4) !== 80877103) return socket.destroy();
        socket.write(offerTls ? 'S' : 'N');
        if (!offerTls) return startup(socket);
        const secure = new tls.TLSSocket(socket, { isServer: true, ...certificate });
        secure.on('error', () => {});
        startup(secure);
      });
    });
  }

  it('AuthenticationOk for a stranger: unauthenticated, with the server version (over TLS)', async () => {
    const port = await start(postgres('trust', true));
    const [finding] = await postgresCheck.run(at(port), checkContext());
    expect(finding).toMatchObject({ status: 'unauthenticated', fields: { unauthenticated: true, authMethod: 'none', version: '16.2', tls: expect.stringMatching(/^TLSv1/) } });
    expect(users.at(-1)).toBe('vigil');
  });

  it('an MD5 password request: authentication required', async () => {
    const port = await start(postgres('md5', false));
    const [finding] = await postgresCheck.run(at(port), checkContext());
    expect(finding).toMatchObject({ status: 'auth-required', fields: { unauthenticated: false, authMethod: 'md5', tls: false } });
  });
});

describe('MySQL (greeting packets)', () => {
  const packet = (payload: Buffer) => {
    const header = Buffer.alloc(4);
    header.writeUIntLE(payload.length, 0, 3);
    return Buffer.concat([header, payload]);
  };
  const greeting = packet(
    Buffer.concat([
      Buffer.from([10]),
      Buffer.from('8.0.36\0'),
      Buffer.from([1, 0, 0, 0]), // connection id
      Buffer.from('abcdefgh'), // auth data part 1
      Buffer.from([0, 0xff, 0xff, 0xff, 2, 0, 0xff, 0xdf, 21]), // filler, caps, charset, status, caps, auth data length
      Buffer.alloc(10),
      Buffer.from('ijklmnopqrst\0'), // auth data part 2 (13)
      Buffer.from('caching_sha2_password\0'),
    ]),
  );

  it('reads the version and auth plugin; authentication is not attempted', async () => {
    const port = await start(responder(() => undefined, greeting));
    const [finding] = await mysqlCheck.run(at(port), checkContext());
    expect(finding).toMatchObject({ status: 'answered', fields: { unauthenticated: null, version: '8.0.36', authPlugin: 'caching_sha2_password' } });
  });

  it('a server that refuses this host', async () => {
    const refusal = packet(Buffer.concat([Buffer.from([0xff, 0x6a, 0x04]), Buffer.from("Host '10.0.0.1' is not allowed to connect to this MySQL server")]));
    const port = await start(responder(() => undefined, refusal));
    const [finding] = await mysqlCheck.run(at(port), checkContext());
    expect(finding).toMatchObject({ status: 'auth-required', fields: { unauthenticated: false }, detail: { refused: "Host '10.0.0.1' is not allowed to connect to this MySQL server" } });
  });
});

describe('MongoDB (OP_MSG responder)', () => {
  /** A BSON document of strings, doubles and arrays of documents, written by hand. */
  function bson(fields: [string, string | number | Buffer[]][]): Buffer {
    const parts = fields.map(([name, value]) => {
      const key = Buffer.from(`${name}\0`);
      if (typeof value === 'number') {
        const double = Buffer.alloc(8);
        double.writeDoubleLE(value);
        return Buffer.concat([Buffer.from([0x01]), key, double]);
      }
      if (typeof value === 'string') {
        const text = Buffer.from(`${value}\0`);
        const length = Buffer.alloc(4);
        length.writeInt32LE(text.length);
        return Buffer.concat([Buffer.from([0x02]), key, length, text]);
      }
      // An array is a document keyed "0", "1"...; its elements here are documents (type 0x03).
      const elements = value.map((document, index) => Buffer.concat([Buffer.from([0x03]), Buffer.from(`${index}\0`), document]));
      const body = Buffer.concat([...elements, Buffer.from([0])]);
      const length = Buffer.alloc(4);
      length.writeInt32LE(body.length + 4);
      return Buffer.concat([Buffer.from([0x04]), key, length, body]);
    });
    const body = Buffer.concat([...parts, Buffer.from([0])]);
    const length = Buffer.alloc(4);
    length.writeInt32LE(body.length + 4);
    return Buffer.concat([length, body]);
  }
  const reply = (requestId: number, document: Buffer) => {
    const header = Buffer.alloc(21);
    header.writeInt32LE(21 + document.length, 0);
    header.writeInt32LE(99, 4);
    header.writeInt32LE(requestId, 8);
    header.writeInt32LE(2013, 12);
    return Buffer.concat([header, document]);
  };
  const mongo = (auth: boolean) =>
    responder((chunk) => {
      const requestId = chunk.readInt32LE(4);
      const command = chunk.toString('latin1');
      if (command.includes('isMaster')) return reply(requestId, bson([['ismaster', 1], ['maxWireVersion', 21], ['ok', 1]]));
      if (command.includes('buildInfo')) return reply(requestId, bson([['version', '7.0.5'], ['ok', 1]]));
      if (command.includes('listDatabases')) {
        return reply(requestId, auth ? bson([['ok', 0], ['errmsg', 'command listDatabases requires authentication'], ['codeName', 'Unauthorized']]) : bson([['databases', [bson([['name', 'admin']]), bson([['name', 'shop']])]], ['ok', 1]]));
      }
      return undefined;
    });

  it('listDatabases answered to a stranger: unauthenticated', async () => {
    const port = await start(mongo(false));
    const [finding] = await mongodbCheck.run(at(port), checkContext());
    expect(finding).toMatchObject({ status: 'unauthenticated', fields: { unauthenticated: true, version: '7.0.5', maxWireVersion: 21 }, detail: { databases: ['admin', 'shop'] } });
  });

  it('Unauthorized: authentication required', async () => {
    const port = await start(mongo(true));
    const [finding] = await mongodbCheck.run(at(port), checkContext());
    expect(finding).toMatchObject({ status: 'auth-required', fields: { unauthenticated: false }, detail: { refusal: 'Unauthorized' } });
  });
});

describe('RDP (X.224 negotiation responder)', () => {
  const requests: number[] = [];
  /** Answers a Connection Request by `policy`, as Windows does. */
  const rdp = (policy: 'nla' | 'tls' | 'legacy') =>
    responder((chunk) => {
      const requested = chunk.readUInt32LE(chunk.length - 4);
      requests.push(requested);
      const confirm = (negotiation?: Buffer) => {
        const x224 = Buffer.concat([Buffer.from([6 + (negotiation?.length ?? 0), 0xd0, 0, 0, 0x12, 0x34, 0]), negotiation ?? Buffer.alloc(0)]);
        const tpkt = Buffer.from([3, 0, 0, 0]);
        tpkt.writeUInt16BE(4 + x224.length, 2);
        return Buffer.concat([tpkt, x224]);
      };
      const negotiation = (type: number, value: number) => {
        const out = Buffer.from([type, 0, 8, 0, 0, 0, 0, 0]);
        out.writeUInt32LE(value, 4);
        return out;
      };
      if (policy === 'legacy') return confirm();
      if (policy === 'nla') return confirm(requested & 2 ? negotiation(2, 2) : negotiation(3, 5));
      return confirm(requested & 1 ? negotiation(2, 1) : negotiation(3, 1));
    });

  it('CredSSP required: NLA, no session before authentication', async () => {
    const port = await start(rdp('nla'));
    requests.length = 0;
    const [finding] = await rdpCheck.run(at(port), checkContext());
    expect(finding).toMatchObject({ status: 'auth-required', fields: { unauthenticated: false, nlaRequired: true, selectedProtocol: 'CredSSP (NLA)' } });
    expect(requests).toEqual([11, 1]);
  });

  it('TLS without NLA, and a server too old to negotiate', async () => {
    const tlsPort = await start(rdp('tls'));
    const legacyPort = await start(rdp('legacy'));
    expect((await rdpCheck.run(at(tlsPort), checkContext()))[0]).toMatchObject({ status: 'unauthenticated', fields: { nlaRequired: false, selectedProtocol: 'TLS' } });
    expect((await rdpCheck.run(at(legacyPort), checkContext()))[0]).toMatchObject({ status: 'unauthenticated', fields: { nlaRequired: false, selectedProtocol: 'standard RDP' } });
  });
});

describe('HTTP APIs: Elasticsearch, Docker, Kubernetes', () => {
  const json = (status: number, body: unknown, headers: Record<string, string> = {}): RequestListener => (_request, response) =>
    response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

  it('Elasticsearch and OpenSearch open to anyone, and one behind security', async () => {
    const open = await start(createServer(json(200, { name: 'n1', cluster_name: 'prod-logs', version: { number: '8.12.0' }, tagline: 'You Know, for Search' })));
    const opensearch = await start(createTlsServer(certificate, json(200, { cluster_name: 'search', version: { distribution: 'opensearch', number: '2.11.0' } })));
    const secured = await start(createServer(json(401, { error: { type: 'security_exception' } }, { 'www-authenticate': 'Basic realm="security" charset="UTF-8"' })));
    const other = await start(createServer(json(200, { hello: 'world' })));
    expect((await elasticsearchCheck.run(at(open), checkContext()))[0]).toMatchObject({ status: 'unauthenticated', fields: { unauthenticated: true, scheme: 'http', distribution: 'elasticsearch', version: '8.12.0', clusterName: 'prod-logs' } });
    expect((await elasticsearchCheck.run(at(opensearch), checkContext()))[0]).toMatchObject({ fields: { unauthenticated: true, scheme: 'https', distribution: 'opensearch', version: '2.11.0' } });
    expect((await elasticsearchCheck.run(at(secured), checkContext()))[0]).toMatchObject({ status: 'auth-required', fields: { unauthenticated: false } });
    expect(await elasticsearchCheck.run(at(other), checkContext())).toEqual([]);
  });

  it('Docker Engine API answering /version', async () => {
    const port = await start(createServer(json(200, { Version: '25.0.3', ApiVersion: '1.44', Os: 'linux', Arch: 'amd64' })));
    expect(await dockerCheck.run(at(port), checkContext())).toEqual([
      { key: `docker/127.0.0.1:${port}`, check: 'docker', target: `127.0.0.1:${port}`, status: 'unauthenticated', fields: { unauthenticated: true, version: '25.0.3', apiVersion: '1.44', os: 'linux/amd64' } },
    ]);
  });

  it('Kubernetes API: anonymous /api allowed or refused; another HTTPS service is not Kubernetes', async () => {
    const kubernetes = (anonymousApi: boolean): RequestListener => (request, response) => {
      if (request.url === '/version') return json(200, { major: '1', minor: '29', gitVersion: 'v1.29.2' })(request, response);
      if (anonymousApi) return json(200, { kind: 'APIVersions', versions: ['v1'] })(request, response);
      return json(403, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403 })(request, response);
    };
    const open = await start(createTlsServer(certificate, kubernetes(true)));
    const closed = await start(createTlsServer(certificate, kubernetes(false)));
    const web = await start(createTlsServer(certificate, (_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<title>shop</title>')));
    expect((await kubernetesCheck.run(at(open), checkContext()))[0]).toMatchObject({ status: 'unauthenticated', fields: { unauthenticated: true, version: 'v1.29.2', apiStatus: 200 }, detail: { scheme: 'https' } });
    expect((await kubernetesCheck.run(at(closed), checkContext()))[0]).toMatchObject({ status: 'auth-required', fields: { unauthenticated: false, apiStatus: 403 } });
    expect(await kubernetesCheck.run(at(web), checkContext())).toEqual([]);
  });
});
