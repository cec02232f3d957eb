/**
 * For investigating the benchmark by hand: starts the source registry with the bench data set and
 * an empty destination registry, writes the ImageSetConfiguration, prints ready-to-paste commands
 * (a first run, a no-op re-run, skopeo, profiling, strace) and waits for Ctrl-C, then stops both
 * registries and removes every temp dir.
 *
 *   node --import tsx bench/hold.ts [--cli bench/out/cli-build/cli.js]
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { makeTrackedDir, removeDir } from '../test/support/cleanup.js';
import { startRegistry, type TestRegistry } from '../test/support/registry.js';
import { benchImages, pushDataset, summarise } from './dataset.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<void> {
  const i = process.argv.indexOf('--cli');
  const cli = i > 0 ? resolve(process.argv[i + 1]!) : join(ROOT, 'dist', 'cli.js');
  const dir = makeTrackedDir('bench-hold');
  const regs: TestRegistry[] = [];
  const stop = async () => {
    await Promise.all(regs.map((r) => r.stop()));
    await removeDir(dir);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stdout.write('\nstopping registries, removing temp dirs\n');
      void stop().finally(() => process.exit(0));
    });
  }
  try {
    const src = await startRegistry();
    regs.push(src);
    const dst = await startRegistry();
    regs.push(dst);
    const images = benchImages();
    const pushed = await pushDataset(src, images);
    const s = summarise(pushed, images);
    const isc = join(dir, 'isc.yaml');
    writeFileSync(
      isc,
      stringify({
        kind: 'ImageSetConfiguration',
        apiVersion: 'mirror.openshift.io/v2alpha1',
        mirror: { additionalImages: images.map((img) => ({ name: `${src.host}/${img.repo}:${img.tag}` })) },
      }),
    );
    const ours = `node ${cli} -c ${isc} --workspace file://${dir}/ws docker://${dst.host}/mirror --src-tls-verify=false --dest-tls-verify=false --parallel-images 4`;
    const list = join(dir, 'images.txt');
    writeFileSync(list, images.map((img) => `${img.repo}:${img.tag}\n`).join(''));
    process.stdout.write(
      `source ${src.url} (${s.images} images, ${(s.distinctBytes / 1e6).toFixed(1)} MB distinct), destination ${dst.url} (empty)\n` +
        `source storage ${src.rootDir}; destination storage ${dst.rootDir}\n\n` +
        `ours (first run, then the same again is the no-op):\n  ${ours}\n` +
        `with a CPU profile:\n  ${ours.replace('node ', 'node --cpu-prof --cpu-prof-dir=bench/out/prof ')}\n` +
        `system calls with timestamps:\n  strace -f -tt -e trace=execve,openat,connect,exit_group -o /tmp/ours.strace ${ours}\n` +
        `skopeo (into another prefix):\n  xargs -P4 -I{} skopeo copy --all --preserve-digests --src-tls-verify=false --dest-tls-verify=false docker://${src.host}/{} docker://${dst.host}/skopeo/{} < ${list}\n\n` +
        `registry logs are not shown here; Ctrl-C stops everything.\n`,
    );
    await new Promise(() => {});
  } catch (err) {
    await stop();
    throw err;
  }
}

void main();
