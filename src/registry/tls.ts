import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';

/**
 * Extra CA certificates for a registry host, the way containers/image finds them: every `*.crt`
 * in an explicit cert dir (`--src-cert-dir`/`--dest-cert-dir`), else in the `certs.d/<host>`
 * directories of containers and docker. Returns undefined when there are none (use Node's defaults,
 * which include NODE_EXTRA_CA_CERTS).
 */
export function extraCertificates(host: string, certDir: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const home = env.HOME || homedir();
  const dirs = certDir
    ? [certDir]
    : [join(home, '.config', 'containers', 'certs.d', host), join('/etc/containers/certs.d', host), join('/etc/docker/certs.d', host)];
  const pems: string[] = [];
  for (const dir of dirs) {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      continue;
    }
    for (const e of entries.sort()) if (e.endsWith('.crt')) pems.push(readFileSync(join(dir, e), 'utf8'));
  }
  return pems.length ? [...rootCertificates, ...pems] : undefined;
}
