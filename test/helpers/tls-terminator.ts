// A TLS terminator on loopback in front of the run's (plain) Temporal dev server, standing in for a
// TLS-protected cluster or Temporal Cloud: HTTP/2 over TLS outside, each gRPC stream passed through
// to the dev server as is. It can ask for a client certificate (mutual TLS) and for an API key
// (`authorization: Bearer <key>`), answering gRPC UNAUTHENTICATED to a call without the right one,
// and it can refuse chosen methods with PERMISSION_DENIED.
import http2 from 'node:http2';
import { status } from '@grpc/grpc-js';
import type { AddressInfo } from 'node:net';
import type { TestCertificate } from './certificates';

export interface TerminatorOptions {
  /** The plain dev server, host:port. */
  upstream: string;
  /** The server's certificate and key. */
  server: TestCertificate;
  /** CA certificates a client certificate must chain to; when set, one is required. */
  clientCa?: string;
  /** The API key every call must carry. */
  apiKey?: string;
  /** Methods (`DescribeNamespace`) answered PERMISSION_DENIED, as to an identity without access. */
  deniedMethods?: string[];
}

export interface TlsTerminator {
  address: string;
  close(): Promise<void>;
}

const { HTTP2_HEADER_AUTHORITY, HTTP2_HEADER_PATH, HTTP2_HEADER_SCHEME, HTTP2_HEADER_STATUS, NGHTTP2_CANCEL } = http2.constants;

export async function startTlsTerminator({ upstream, server: certificate, clientCa, apiKey, deniedMethods = [] }: TerminatorOptions): Promise<TlsTerminator> {
  const backend = http2.connect(`http://${upstream}`);
  backend.on('error', () => {});
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createSecureServer({
    key: certificate.key,
    cert: certificate.cert,
    ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: true } : {}),
  });
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const refuse = (status: number, message: string) =>
      stream.respond({ [HTTP2_HEADER_STATUS]: 200, 'content-type': 'application/grpc', 'grpc-status': String(status), 'grpc-message': message }, { endStream: true });
    if (apiKey !== undefined && headers.authorization !== `Bearer ${apiKey}`) return refuse(status.UNAUTHENTICATED, 'API key refused');
    if (deniedMethods.some((method) => String(headers[HTTP2_HEADER_PATH]).endsWith(`/${method}`))) return refuse(status.PERMISSION_DENIED, 'Request unauthorized');
    const forwarded = { ...headers };
    delete forwarded[HTTP2_HEADER_AUTHORITY];
    delete forwarded[HTTP2_HEADER_SCHEME];
    const call = backend.request(forwarded);
    call.on('error', () => stream.close(NGHTTP2_CANCEL));
    stream.on('close', () => {
      if (!call.closed) call.close(NGHTTP2_CANCEL);
    });
    stream.pipe(call);
    let trailers: http2.IncomingHttpHeaders = {};
    call.on('trailers', (received) => {
      trailers = received;
    });
    call.on('response', (responseHeaders, flags) => {
      if (stream.closed) return;
      // A trailers-only answer (an error) ends the stream with its headers.
      if (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) {
        stream.respond(responseHeaders, { endStream: true });
        return;
      }
      stream.respond(responseHeaders, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers(trailers));
      call.pipe(stream);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.destroy();
      backend.destroy();
      await closed;
    },
  };
}
