// A loopback HTTP proxy in front of moto, for tests that need AWS to misbehave after it has acted:
// the answer of a request lost on the way back (moto carried the change out, the client sees its
// connection reset), or something made to happen between the change and its answer (a loopback
// listener closed when a revoke lands, as the machine behind a real security group stops answering).
// Requests and answers pass through untouched, the Host header included, so moto still checks
// the signatures when its IAM authorization is on.
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { close, listen } from './loopback';

/** A request as the front saw it, once moto had answered it. */
export interface FrontRequest {
  /**
   * `<service>:<operation>`: the service from the request's signature scope (`ec2`, `sts`, `s3`), the
   * operation from the query API's `Action` (`ec2:RevokeSecurityGroupIngress`, `sts:AssumeRole`), a
   * JSON API's target, or for S3 the bucket subresource and method (`s3:PutPublicAccessBlock`,
   * `s3:GetBucketPolicy`); other S3 requests are `s3:<METHOD> <path>`.
   */
  operation: string;
  /** The query API's parameters (form body or query string); for S3, the URL's query. */
  params: URLSearchParams;
  /** moto's status code. */
  status: number;
}

export type FrontHook = (request: FrontRequest) => void | Promise<void>;

export interface MotoFront {
  /** Where the SDK's `endpoint` points instead of moto. */
  endpoint: string;
  /** Every request relayed (or whose answer was lost), in the order moto answered them. */
  readonly requests: readonly FrontRequest[];
  /** The next request for `operation` is carried out by moto, and its answer lost: the client's connection is reset. Once. */
  loseNextAnswer(operation: string): void;
  /**
   * Runs `hook` after each request for `operation` that moto answered with success (2xx), before its
   * answer is relayed. Gives the function that removes it.
   */
  afterSuccess(operation: string, hook: FrontHook): () => void;
  close(): Promise<void>;
}

/** S3 bucket subresources by the query key that names them, for the operation's name. */
const S3_SUBRESOURCES: Record<string, string> = {
  publicAccessBlock: 'PublicAccessBlock',
  policy: 'BucketPolicy',
  policyStatus: 'BucketPolicyStatus',
  acl: 'BucketAcl',
  tagging: 'BucketTagging',
  location: 'BucketLocation',
};
const S3_VERBS: Record<string, string> = { GET: 'Get', PUT: 'Put', DELETE: 'Delete' };

function operationOf(method: string, url: URL, headers: IncomingHttpHeaders, body: string): { operation: string; params: URLSearchParams } {
  const service = /Credential=[^/]+\/\d+\/[^/]+\/([^/]+)\/aws4_request/.exec(headers.authorization ?? '')?.[1] ?? 'unsigned';
  if (service === 's3') {
    const subresource = [...url.searchParams.keys()].find((key) => key in S3_SUBRESOURCES);
    const verb = S3_VERBS[method];
    const operation = subresource && verb ? `${verb}${S3_SUBRESOURCES[subresource]}` : `${method} ${url.pathname}`;
    return { operation: `s3:${operation}`, params: url.searchParams };
  }
  const target = headers['x-amz-target'];
  if (typeof target === 'string') return { operation: `${service}:${target.slice(target.lastIndexOf('.') + 1)}`, params: new URLSearchParams() };
  const params = headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(body) : url.searchParams;
  return { operation: `${service}:${params.get('Action') ?? `${method} ${url.pathname}`}`, params };
}

export async function startMotoFront(moto: { endpoint: string }): Promise<MotoFront> {
  const target = new URL(moto.endpoint);
  const requests: FrontRequest[] = [];
  const toLose = new Set<string>();
  const hooks = new Map<string, Set<FrontHook>>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const { operation, params } = operationOf(req.method ?? 'GET', new URL(req.url ?? '/', 'http://front'), req.headers, body.toString());
      const forward = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (reply) => {
        const answer: Buffer[] = [];
        reply.on('data', (chunk: Buffer) => answer.push(chunk));
        reply.on('end', () => {
          const status = reply.statusCode ?? 502;
          const seen: FrontRequest = { operation, params, status };
          requests.push(seen);
          if (toLose.delete(operation)) {
            // Carried out, never answered: as a connection that breaks on the way back.
            res.socket?.destroy();
            return;
          }
          const relay = () => {
            res.writeHead(status, reply.headers);
            res.end(Buffer.concat(answer));
          };
          const matching = status >= 200 && status < 300 ? [...(hooks.get(operation) ?? [])] : [];
          Promise.all(matching.map((hook) => hook(seen))).then(relay, (err: unknown) => {
            res.writeHead(502, { 'content-type': 'text/plain' });
            res.end(`moto-front hook failed: ${String(err)}`);
          });
        });
      });
      forward.on('error', (err) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`moto-front cannot reach moto: ${err.message}`);
      });
      forward.end(body);
    });
  });
  const port = await listen(server);

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    loseNextAnswer(operation) {
      toLose.add(operation);
    },
    afterSuccess(operation, hook) {
      const forOperation = hooks.get(operation) ?? new Set();
      forOperation.add(hook);
      hooks.set(operation, forOperation);
      return () => forOperation.delete(hook);
    },
    close: () => close(server),
  };
}
