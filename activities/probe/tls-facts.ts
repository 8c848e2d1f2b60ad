// What a TLS session shows about a service: protocol, cipher and the certificate, judged here
// (the connection itself accepts any certificate so that a bad one is reported, not hidden).
import tls, { type TLSSocket } from 'node:tls';

export interface TlsFacts {
  protocol: string | null;
  cipher: string | null;
  subject: string | null;
  issuer: string | null;
  subjectAltName: string | null;
  /** ISO dates. */
  validFrom: string | null;
  validTo: string | null;
  /** SHA-256 of the DER certificate, `AA:BB:...` as browsers show it. */
  fingerprint256: string | null;
  selfSigned: boolean;
  expired: boolean;
  notYetValid: boolean;
  /** The host name or IP the certificate was checked against. */
  nameChecked: string;
  nameMismatch: boolean;
  /** The chain leads to a root Node trusts. */
  trusted: boolean;
  /** OpenSSL's reason when it does not (`DEPTH_ZERO_SELF_SIGNED_CERT`, `CERT_HAS_EXPIRED`...). */
  authorizationError: string | null;
}

const oneLine = (name: string | undefined) => (name ? name.split('\n').join(', ') : null);
const isoDate = (text: string | undefined) => (text ? new Date(text).toISOString() : null);

/** Reads the session now, while it is open: the certificate is gone once the socket is destroyed. */
export function tlsFacts(socket: TLSSocket, host: string, now = Date.now()): TlsFacts {
  // In this order: after getPeerX509Certificate(), Node 20 gives an empty getPeerCertificate().
  const peer = socket.getPeerCertificate();
  const certificate = socket.getPeerX509Certificate();
  const validFrom = isoDate(certificate?.validFrom);
  const validTo = isoDate(certificate?.validTo);
  return {
    protocol: socket.getProtocol(),
    cipher: socket.getCipher()?.name ?? null,
    subject: oneLine(certificate?.subject),
    issuer: oneLine(certificate?.issuer),
    subjectAltName: certificate?.subjectAltName ?? null,
    validFrom,
    validTo,
    fingerprint256: certificate?.fingerprint256 ?? null,
    selfSigned: certificate ? certificate.checkIssued(certificate) && certificate.verify(certificate.publicKey) : false,
    expired: validTo !== null && Date.parse(validTo) < now,
    notYetValid: validFrom !== null && Date.parse(validFrom) > now,
    nameChecked: host,
    nameMismatch: certificate ? tls.checkServerIdentity(host, peer) !== undefined : true,
    trusted: socket.authorized,
    authorizationError: socket.authorizationError ? String(socket.authorizationError) : null,
  };
}

/** The worst thing about the certificate, in a word (the TLS finding's status). */
export function tlsVerdict(facts: TlsFacts): string {
  if (facts.subject === null) return 'no-certificate';
  if (facts.expired) return 'expired';
  if (facts.notYetValid) return 'not-yet-valid';
  if (facts.selfSigned) return 'self-signed';
  if (!facts.trusted) return 'untrusted';
  if (facts.nameMismatch) return 'name-mismatch';
  return 'valid';
}
