// A throwaway CA and certificates it signs, for TLS and mutual TLS at test time (openssl CLI).
// The CA is certificates.ts's self-signed one (CA:TRUE); the leaves are proper end-entity
// certificates, which the SDK's native (rustls) connection insists on.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeCertificate, type TestCertificate } from './certificates';

export interface IssueOptions {
  commonName: string;
  /** `DNS:temporal.vigil.test`, `IP:127.0.0.1`... */
  subjectAltName: string;
  usage: 'server' | 'client';
}

export function makeCertificateAuthority(name: string): TestCertificate {
  return makeCertificate({ commonName: name, subjectAltName: `DNS:${name}` });
}

/** A P-256 certificate signed by `ca`, for a server or a client. */
export function issueCertificate(ca: TestCertificate, { commonName, subjectAltName, usage }: IssueOptions): TestCertificate {
  // The CA's and the leaf's private keys are written here for openssl: removed once read.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-cert-'));
  try {
    const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    writeFileSync(path.join(dir, 'ca-key.pem'), ca.key);
    writeFileSync(path.join(dir, 'ca-cert.pem'), ca.cert);
    writeFileSync(
      path.join(dir, 'leaf.cnf'),
      ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature', `extendedKeyUsage = ${usage === 'server' ? 'serverAuth' : 'clientAuth'}`, `subjectAltName = ${subjectAltName}`, ''].join('\n'),
    );
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem', '-out', 'request.csr', '-subj', `/CN=${commonName}`]);
    openssl(['x509', '-req', '-in', 'request.csr', '-CA', 'ca-cert.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '30', '-sha256', '-extfile', 'leaf.cnf', '-out', 'cert.pem']);
    return { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
