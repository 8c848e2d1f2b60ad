// RDP: the X.224 Connection Request with an RDP negotiation request, as a client opens every
// session. Asked for TLS alone, a server that insists on CredSSP (NLA) refuses: then a user must
// authenticate before any session (or login screen) exists. Nothing beyond the negotiation is sent.
import { Connection, type Framer } from '../connection';
import type { CheckContext, OpenPort, ServiceCheck } from '../types';
import { accessStatus, probeFinding } from './finding';

const RDP_PORTS = new Set([3389]);
const TYPE_RDP_NEG_RSP = 0x02;
const TYPE_RDP_NEG_FAILURE = 0x03;

const RDP_PROTOCOLS = { rdp: 0, tls: 1, credssp: 2, credsspEarlyAuth: 8 } as const;
const protocolNames: Record<number, string> = { 0: 'standard RDP', 1: 'TLS', 2: 'CredSSP (NLA)', 4: 'RDSTLS', 8: 'CredSSP with early user authorization' };
const failureNames: Record<number, string> = {
  1: 'TLS required by server',
  2: 'TLS not allowed by server',
  3: 'no certificate on server',
  4: 'inconsistent flags',
  5: 'CredSSP (NLA) required by server',
  6: 'TLS with user authentication required by server',
};

/** One TPKT packet: version 3, then a big-endian length that counts the header. */
const tpkt: Framer = (data) => (data.length >= 4 && data.length >= data.readUInt16BE(2) ? data.readUInt16BE(2) : undefined);

function connectionRequest(requestedProtocols: number): Buffer {
  const negotiation = Buffer.from([0x01, 0x00, 0x08, 0x00, 0, 0, 0, 0]);
  negotiation.writeUInt32LE(requestedProtocols, 4);
  // X.224 CR TPDU: length indicator, CR code, dst-ref, src-ref, class 0
  const x224 = Buffer.concat([Buffer.from([6 + negotiation.length, 0xe0, 0, 0, 0, 0, 0]), negotiation]);
  const header = Buffer.from([0x03, 0x00, 0, 0]);
  header.writeUInt16BE(4 + x224.length, 2);
  return Buffer.concat([header, x224]);
}

type Negotiation = { selected: number } | { failure: number } | { legacy: true };

async function negotiate(open: OpenPort, context: CheckContext, requestedProtocols: number): Promise<Negotiation | undefined> {
  const connection = await Connection.open(open.address, open.port, context);
  try {
    connection.send(connectionRequest(requestedProtocols));
    const answer = await connection.receive(tpkt);
    // X.224 Connection Confirm (0xd0) after the 4-byte TPKT header and the length indicator.
    if (answer[0] !== 0x03 || answer[5] !== 0xd0) return undefined;
    const negotiation = answer.subarray(11);
    if (negotiation.length < 8) return { legacy: true };
    const value = negotiation.readUInt32LE(4);
    if (negotiation[0] === TYPE_RDP_NEG_RSP) return { selected: value };
    if (negotiation[0] === TYPE_RDP_NEG_FAILURE) return { failure: value };
    return undefined;
  } finally {
    connection.close();
  }
}

export const rdpCheck: ServiceCheck = {
  name: 'rdp',
  matches: ({ port, banner }) => banner === undefined && RDP_PORTS.has(port),
  async run(open, context) {
    const preferred = await negotiate(open, context, RDP_PROTOCOLS.tls | RDP_PROTOCOLS.credssp | RDP_PROTOCOLS.credsspEarlyAuth);
    if (!preferred) return [];
    let nlaRequired: boolean;
    let selectedProtocol: string;
    if ('legacy' in preferred) {
      // A server too old to negotiate speaks standard RDP only.
      nlaRequired = false;
      selectedProtocol = protocolNames[0]!;
    } else if ('failure' in preferred) {
      nlaRequired = false;
      // Refusing TLS and CredSSP leaves standard RDP; other refusals are named as the server gave them.
      selectedProtocol = preferred.failure === 2 ? protocolNames[0]! : (failureNames[preferred.failure] ?? `negotiation failure ${preferred.failure}`);
    } else {
      selectedProtocol = protocolNames[preferred.selected] ?? `protocol ${preferred.selected}`;
      const tlsOnly = preferred.selected === RDP_PROTOCOLS.rdp || preferred.selected === RDP_PROTOCOLS.tls ? preferred : await negotiate(open, context, RDP_PROTOCOLS.tls);
      nlaRequired = tlsOnly !== undefined && 'failure' in tlsOnly && tlsOnly.failure === 5;
    }
    return [probeFinding('rdp', open, accessStatus(!nlaRequired), { unauthenticated: !nlaRequired, nlaRequired, selectedProtocol })];
  },
};
