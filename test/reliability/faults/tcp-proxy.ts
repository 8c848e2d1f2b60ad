// A TCP proxy on 127.0.0.1 in front of one service (Temporal's gRPC port, an S3 endpoint), whose
// link can be made to fail: `hold` keeps what the client sends (nothing reaches the service, nothing
// comes back: a hung network), `refuse` cuts every connection and refuses new ones (the service is
// down), `forward` carries everything again (what was held goes through, if its client is still there).
import net from 'node:net';

export type ProxyMode = 'forward' | 'hold' | 'refuse';

export interface TcpProxy {
  /** `127.0.0.1:<port>`, for configuration that takes host:port. */
  address: string;
  url: string;
  mode(): ProxyMode;
  setMode(mode: ProxyMode): void;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

interface Link {
  client: net.Socket;
  upstream?: net.Socket;
  /** What the client sent while held. */
  held: Buffer[];
  /** What the service sent while held. */
  heldBack: Buffer[];
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'forward';
  let accepted = 0;
  const links = new Set<Link>();

  const open = (link: Link) => {
    const upstream = net.connect(target);
    link.upstream = upstream;
    upstream.on('data', (chunk: Buffer) => {
      if (mode === 'forward') link.client.write(chunk);
      else link.heldBack.push(chunk);
    });
    upstream.on('error', () => link.client.destroy());
    upstream.on('close', () => link.client.destroy());
    for (const chunk of link.held.splice(0)) upstream.write(chunk);
  };

  const server = net.createServer((client) => {
    accepted += 1;
    if (mode === 'refuse') {
      client.destroy();
      return;
    }
    const link: Link = { client, held: [], heldBack: [] };
    links.add(link);
    client.on('data', (chunk: Buffer) => {
      if (mode === 'forward' && link.upstream) link.upstream.write(chunk);
      else link.held.push(chunk);
    });
    client.on('error', () => {});
    client.on('close', () => {
      links.delete(link);
      link.upstream?.destroy();
    });
    if (mode === 'forward') open(link);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    address: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    mode: () => mode,
    setMode(next) {
      mode = next;
      if (next === 'refuse') {
        for (const link of links) link.client.destroy();
      } else if (next === 'forward') {
        for (const link of links) {
          if (!link.upstream) open(link);
          else for (const chunk of link.held.splice(0)) link.upstream.write(chunk);
          for (const chunk of link.heldBack.splice(0)) link.client.write(chunk);
        }
      }
    },
    accepted: () => accepted,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const link of links) link.client.destroy();
      await closed;
    },
  };
}
