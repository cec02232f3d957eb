/**
 * Test PKI made with openssl: one CA, a server certificate for 127.0.0.1/localhost (TLS
 * registries) and an RSA certificate the token server signs its JWTs with. Key generation is the
 * slow part (RSA), so the material is made once per test process and shared by every registry.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTrackedDir } from './cleanup.js';
import { requireTools } from './tools.js';

const run = promisify(execFile);

export interface TestPki {
  dir: string;
  /** PEM of the CA that signed both certificates below */
  caCertPath: string;
  caCertPem: string;
  /** server certificate with SAN IP:127.0.0.1, DNS:localhost */
  serverCertPath: string;
  serverKeyPath: string;
  /** RSA certificate + key for RS256 token signing (signed by the CA) */
  signerCertPath: string;
  signerKeyPem: string;
  /** base64 DER of the signer certificate: the JWT `x5c` header entry */
  signerCertDerBase64: string;
}

// Our own config so the result does not depend on the distribution's openssl.cnf (whose default
// sections may add or clash with extensions). Go (distribution, skopeo) requires SANs (CN is
// ignored) and a CA with basicConstraints CA:TRUE.
const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = ocm-test
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[signer]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

async function generate(): Promise<TestPki> {
  const openssl = requireTools().openssl;
  const dir = makeTrackedDir('pki');
  const p = (name: string) => join(dir, name);
  writeFileSync(p('openssl.cnf'), OPENSSL_CNF);
  const cnf = ['-config', p('openssl.cnf')];
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const serial = () => ['-set_serial', `0x${randomBytes(8).toString('hex')}`];

  // CA (EC: instant to generate)
  await run(openssl, ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '3',
    '-subj', '/CN=oc-mirror-action test CA', ...cnf, '-extensions', 'v3_ca', ...serial()]);

  // server cert and the token signer's RSA cert, in parallel (RSA keygen dominates)
  const makeLeaf = async (name: string, key: string[], subject: string, ext: string) => {
    await run(openssl, ['req', '-new', ...key, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`),
      '-subj', subject, ...cnf]);
    await run(openssl, ['x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'),
      ...serial(), '-days', '3', '-out', p(`${name}.crt`), '-extfile', p('openssl.cnf'), '-extensions', ext]);
  };
  await Promise.all([
    makeLeaf('server', ec, '/CN=localhost', 'server'),
    makeLeaf('signer', ['-newkey', 'rsa:2048', '-nodes'], '/CN=oc-mirror-action test token signer', 'signer'),
  ]);

  const signerPem = readFileSync(p('signer.crt'), 'utf8');
  return {
    dir,
    caCertPath: p('ca.crt'),
    caCertPem: readFileSync(p('ca.crt'), 'utf8'),
    serverCertPath: p('server.crt'),
    serverKeyPath: p('server.key'),
    signerCertPath: p('signer.crt'),
    signerKeyPem: readFileSync(p('signer.key'), 'utf8'),
    signerCertDerBase64: new X509Certificate(signerPem).raw.toString('base64'),
  };
}

let pki: Promise<TestPki> | undefined;

/** The process-wide test PKI, generated on first use. */
export function testPki(): Promise<TestPki> {
  pki ??= generate().catch((err: unknown) => {
    pki = undefined; // let a later caller retry rather than caching the failure
    throw err;
  });
  return pki;
}
