// A real DNS server on loopback (dns2, over UDP) that answers the names a test gives it: what the
// internet's resolver would say about a public database, load balancer or function URL, pointed at
// loopback listeners. Vigil reaches it through `probe.resolvers`, the setting that makes its proofs
// resolve names as an outsider does.
import dns2 from 'dns2';

const { Packet } = dns2;
/** The answer code for a name that does not exist (dns2's typings leave out its RCODE table). */
const NXDOMAIN = 3;

export interface TestDns {
  /** `127.0.0.1:<port>`, for `probe.resolvers`. */
  server: string;
  /** Answers `name` with these addresses (IPv4 and IPv6) from now on; an empty list makes it unknown again. */
  set(name: string, addresses: readonly string[]): void;
  /** Every name asked so far (lower case), in order: what Vigil resolved. */
  asked: string[];
  close(): Promise<void>;
}

export async function startTestDns(): Promise<TestDns> {
  const records = new Map<string, string[]>();
  const asked: string[] = [];
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      const name = (question?.name ?? '').toLowerCase().replace(/\.$/, '');
      asked.push(name);
      const addresses = records.get(name);
      if (!addresses) {
        response.header.rcode = NXDOMAIN;
        send(response);
        return;
      }
      const family = question?.type === Packet.TYPE.AAAA ? 'AAAA' : question?.type === Packet.TYPE.A ? 'A' : undefined;
      for (const address of addresses) {
        const type = address.includes(':') ? 'AAAA' : 'A';
        if (type === family) response.answers.push(Packet.createResourceFromQuestion(question!, { type: Packet.TYPE[type], class: Packet.CLASS.IN, ttl: 1, address }));
      }
      send(response);
    },
  });
  const listening = new Promise<void>((resolve) => server.once('listening', () => resolve()));
  await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  await listening;
  const { udp } = server.addresses() as { udp: { port: number } };
  return {
    server: `127.0.0.1:${udp.port}`,
    set(name, addresses) {
      if (addresses.length === 0) records.delete(name.toLowerCase());
      else records.set(name.toLowerCase(), [...addresses]);
    },
    asked,
    close: () => server.close(),
  };
}
