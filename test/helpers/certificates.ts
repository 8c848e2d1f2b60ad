// Throwaway test certificates made with the openssl CLI at test time (nothing secret is committed).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestCertificate {
  key: string;
  cert: string;
}

export interface CertificateOptions {
  commonName: string;
  /** `IP:127.0.0.1`, `DNS:other.example`... */
  subjectAltName: string;
  /** Valid in January 2020 only. */
  expired?: boolean;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

/** A self-signed P-256 certificate and its key, as PEM. */
export function makeCertificate({ commonName, subjectAltName, expired = false }: CertificateOptions): TestCertificate {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-cert-'));
  try {
    return makeCertificateIn(dir, { commonName, subjectAltName, expired });
  } finally {
    // It holds the private key.
    rmSync(dir, { recursive: true, force: true });
  }
}

function makeCertificateIn(dir: string, { commonName, subjectAltName, expired = false }: CertificateOptions): TestCertificate {
  const subject = ['-subj', `/CN=${commonName}`, '-addext', `subjectAltName=${subjectAltName}`];
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem'];
  if (!expired) {
    openssl(['req', '-x509', ...newKey, '-out', 'cert.pem', '-days', '30', ...subject], dir);
  } else {
    // `openssl req` only takes future validity; `openssl ca` takes explicit dates.
    writeFileSync(
      path.join(dir, 'ca.cnf'),
      ['[ca]', 'default_ca = test', '[test]', 'database = index.txt', 'new_certs_dir = .', 'serial = serial', 'default_md = sha256', 'policy = any', 'copy_extensions = copy', 'unique_subject = no', '[any]', 'commonName = supplied', ''].join('\n'),
    );
    writeFileSync(path.join(dir, 'index.txt'), '');
    writeFileSync(path.join(dir, 'serial'), '01\n');
    openssl(['req', '-new', ...newKey, '-out', 'request.csr', ...subject], dir);
    openssl(['ca', '-batch', '-config', 'ca.cnf', '-selfsign', '-keyfile', 'key.pem', '-in', 'request.csr', '-out', 'cert.pem', '-startdate', '20200101000000Z', '-enddate', '20200201000000Z', '-notext'], dir);
  }
  return { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
}
