/**
 * `npm run demo`: the whole air-gap journey on one machine, with nothing but this package.
 * A sample image set is pushed into an embedded registry (our own `serve` over a fresh store),
 * mirrored to disk as archives, then pushed from those archives into a second embedded registry
 * standing for the disconnected site. Every image is then compared by digest on both sides.
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { formatBytes } from '../src/cli/progress.js';
import { VerifyingStream } from '../src/image/digest.js';
import { MediaType, type Descriptor } from '../src/image/manifest.js';
import { RunLogger } from '../src/log.js';
import { Registry, type RegistryRepository } from '../src/registry/client.js';
import { StoreBackend } from '../src/server/backend.js';
import { startRegistryServer } from '../src/server/registry-server.js';
import { LocalStore } from '../src/store/store.js';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const cli = join(root, 'dist', 'cli.js');
const keep = process.argv.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'oc-mirror-demo-'));
const quietLog = new RunLogger('error', { write: () => {} });

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Deterministic pseudo-random bytes, so that two images can share a layer by sharing a seed. */
function bytes(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function putBlob(repo: RegistryRepository, content: Buffer, mediaType: string): Promise<Descriptor> {
  const desc = { mediaType, digest: sha(content), size: content.length };
  if (!(await repo.hasBlob(desc))) await repo.putBlob(desc, Readable.from([content]).pipe(new VerifyingStream(desc.digest, desc.size, 'demo')));
  return desc;
}

async function pushImage(repo: RegistryRepository, layers: [string, number][], arch: string): Promise<{ bytes: Buffer; digest: string }> {
  const layerDescs = [];
  for (const [seed, size] of layers) layerDescs.push(await putBlob(repo, bytes(seed, size), MediaType.OciManifest.replace('manifest', 'layer').replace('+json', '.tar+gzip')));
  const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: layerDescs.map((l) => l.digest) } }));
  const configDesc = await putBlob(repo, config, 'application/vnd.oci.image.config.v1+json');
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers: layerDescs }));
  return { bytes: manifest, digest: sha(manifest) };
}

async function main(): Promise<void> {
  say(`oc-mirror-action demo — working in ${work}`);
  const source = await startRegistryServer({ backend: new StoreBackend(await LocalStore.open(join(work, 'internet-registry')), 'the sample registry'), port: 0, log: quietLog });
  const enclave = await startRegistryServer({ backend: new StoreBackend(await LocalStore.open(join(work, 'enclave-registry')), 'the enclave registry'), port: 0, log: quietLog });
  const sourceHost = new URL(source.url).host;
  const enclaveHost = new URL(enclave.url).host;
  const client = new Registry(sourceHost, { tlsVerify: false, credentials: async () => undefined, connections: 8, uploadChunkSize: 0 });
  try {
    say(`\n1. A sample image set, pushed into an embedded registry (oc-mirror serve) at ${source.url}`);
    const samples: { name: string; layers: [string, number][]; platforms?: string[] }[] = [
      { name: 'demo/ubi-minimal:9.4', layers: [['base', 3_000_000], ['ubi', 1_000_000]] },
      { name: 'demo/tools:1.0', layers: [['base', 3_000_000], ['tools', 2_000_000]] },
      { name: 'demo/multiarch:latest', layers: [['multi', 1_500_000]], platforms: ['amd64', 'arm64'] },
    ];
    const pushed = new Map<string, string>();
    for (const s of samples) {
      const [repoName, tag] = s.name.split(':') as [string, string];
      const repo = client.repository(repoName, 'push');
      let top;
      if (s.platforms) {
        const children = [];
        for (const arch of s.platforms) {
          const child = await pushImage(repo, s.layers.map(([seed, size]) => [`${seed}-${arch}`, size]), arch);
          await repo.putManifest({ bytes: child.bytes, mediaType: MediaType.OciManifest, digest: child.digest }, child.digest);
          children.push({ mediaType: MediaType.OciManifest, digest: child.digest, size: child.bytes.length, platform: { os: 'linux', architecture: arch } });
        }
        const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: children }));
        top = { bytes: index, digest: sha(index), mediaType: MediaType.OciIndex };
      } else {
        const image = await pushImage(repo, s.layers, 'amd64');
        top = { ...image, mediaType: MediaType.OciManifest };
      }
      await repo.putManifest(top, tag);
      pushed.set(s.name, top.digest);
      say(`   ${s.name}  ${top.digest.slice(0, 19)}…${s.platforms ? `  (${s.platforms.join(', ')})` : ''}`);
    }

    const isc = join(work, 'imageset-config.yaml');
    writeFileSync(
      isc,
      `kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\nmirror:\n  additionalImages:\n${samples.map((s) => `  - name: ${sourceHost}/${s.name}`).join('\n')}\n`,
    );
    const transfer = join(work, 'transfer-disk');
    say(`\n2. Mirror to disk: oc-mirror -c imageset-config.yaml file://${transfer}`);
    await run(['-c', isc, `file://${transfer}`, '--cache-dir', join(work, 'connected-cache'), '--src-tls-verify=false', '--v2']);
    for (const f of readdirSync(transfer).filter((f) => f.endsWith('.tar'))) say(`   ${f}: ${formatBytes(statSync(join(transfer, f)).size)}`);

    say(`\n3. Disk to mirror, on the "disconnected" side: oc-mirror -c imageset-config.yaml --from file://${transfer} docker://${enclaveHost}/mirror`);
    await run(['-c', isc, '--from', `file://${transfer}`, `docker://${enclaveHost}/mirror`, '--cache-dir', join(work, 'enclave-cache'), '--dest-tls-verify=false', '--v2']);

    say('\n4. What arrived, compared by digest:');
    const target = new Registry(enclaveHost, { tlsVerify: false, credentials: async () => undefined, connections: 4, uploadChunkSize: 0 });
    let ok = true;
    for (const [name, digest] of pushed) {
      const [repoName, tag] = name.split(':') as [string, string];
      const arrived = await target.repository(`mirror/${repoName}`, 'pull').manifestDigest(tag);
      ok &&= arrived === digest;
      say(`   ${arrived === digest ? '✓' : '✗'} ${enclaveHost}/mirror/${name}  ${arrived ?? 'missing'}`);
    }
    await target.close();
    const itms = join(transfer, 'working-dir', 'cluster-resources', 'itms-oc-mirror.yaml');
    say(`\n5. Cluster resources for the disconnected cluster: ${join(transfer, 'working-dir', 'cluster-resources')}`);
    say(readFileSync(itms, 'utf8').split('\n').map((l) => `   ${l}`).join('\n'));
    say(ok ? 'Every image arrived byte for byte.' : 'Some images did not arrive: see the logs above.');
    process.exitCode = ok ? 0 : 1;
  } finally {
    await client.close();
    await source.close();
    await enclave.close();
    if (keep) say(`(kept ${work})`);
    else rmSync(work, { recursive: true, force: true });
  }
}

/** Runs the CLI as a user would. Asynchronously: the embedded registries live in this process. */
async function run(args: string[]): Promise<void> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  child.stderr.on('data', (c: Buffer) => (out += c));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  for (const l of out.trim().split('\n')) say(`   ${l.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\s+/, '')}`);
  if (code !== 0) throw new Error(`oc-mirror exited with ${code}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
