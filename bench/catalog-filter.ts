/**
 * Catalog filtering benchmark: parse + filter of an index the size of Red Hat's (about 200
 * packages, 20 000 bundles, a few hundred MB of FBC JSON), each measurement in a child process
 * so that its peak RSS (process.resourceUsage().maxRSS) is its own. Targets: a 10-package
 * configuration under 5 s and 400 MB.
 *
 *   npm run bench:catalog -- [--dir DIR (reuse or keep the generated catalog)] [--runs 3]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Operator } from '../src/config/types.js';
import type { FbcFile } from '../src/operator/declarative-config.js';
import { parseAndFilterCatalog } from '../src/operator/filter.js';
import { generateCatalog, packageName } from './catalog-generator.js';

const SELF = fileURLToPath(import.meta.url);

/** The configurations measured; the first is the one the targets are about. */
const CONFIGS: Record<string, Operator> = {
  'ten packages': {
    catalog: 'registry.example.com/bench/index:v1',
    packages: [
      { name: packageName(0) },
      { name: packageName(5) },
      { name: packageName(17), minVersion: '1.2.0' },
      { name: packageName(33), maxVersion: '1.3.0' },
      { name: packageName(48), channels: [{ name: 'stable', minVersion: '1.1.0', maxVersion: '1.5.0' }] },
      { name: packageName(60), channels: [{ name: 'stable' }, { name: 'fast' }] },
      { name: packageName(81) },
      { name: packageName(99), minVersion: '1.0.0' },
      { name: packageName(150) },
      { name: packageName(199) },
    ],
  },
  'no packages (heads of every channel)': { catalog: 'registry.example.com/bench/index:v1' },
};

interface ChildResult {
  wallMs: number;
  maxRssMB: number;
  bundles: number;
  relatedImages: number;
  addedPackages: number;
}

async function* readTree(root: string): AsyncGenerator<FbcFile> {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  for (const path of walk(root)) yield { path: relative(root, path), content: await readFile(path) };
}

async function child(dir: string, configName: string): Promise<void> {
  const operator = CONFIGS[configName]!;
  const start = performance.now();
  const result = await parseAndFilterCatalog(() => readTree(join(dir, 'configs')), operator, 'bench.yaml mirror.operators[0]');
  const wallMs = performance.now() - start;
  const out: ChildResult = {
    wallMs,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    bundles: result.bundles.length,
    relatedImages: new Set(result.bundles.flatMap((b) => b.relatedImages.map((r) => r.image))).size,
    addedPackages: result.addedPackages.length,
  };
  process.stdout.write(JSON.stringify(out));
}

function dirBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (sum, e) => sum + (e.isDirectory() ? dirBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size),
    0,
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1]!, args[2]!);
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i === -1 ? undefined : args[i + 1];
  };
  const runs = Number(flag('--runs') ?? 3);
  const given = flag('--dir');
  const dir = given ?? mkdtempSync(join(tmpdir(), 'catalog-bench-'));
  try {
    if (!existsSync(join(dir, 'configs'))) {
      const t = performance.now();
      const generated = await generateCatalog(dir);
      console.log(
        `generated ${generated.packages.length} packages, ${generated.bundles} bundles, ${(generated.bytes / 1e6).toFixed(0)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
    } else {
      console.log(`reusing ${dir} (${(dirBytes(join(dir, 'configs')) / 1e6).toFixed(0)} MB)`);
    }
    for (const name of Object.keys(CONFIGS)) {
      const results: ChildResult[] = [];
      for (let r = 0; r < runs; r++) {
        const run = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--child', dir, name], { encoding: 'utf8', maxBuffer: 1 << 20 });
        if (run.status !== 0) throw new Error(`child failed (${run.status}): ${run.stderr}`);
        results.push(JSON.parse(run.stdout) as ChildResult);
      }
      const wall = results.map((x) => x.wallMs).sort((a, b) => a - b);
      const rss = results.map((x) => x.maxRssMB).sort((a, b) => a - b);
      const last = results[results.length - 1]!;
      console.log(
        `${name}: parse+filter median ${(wall[Math.floor(wall.length / 2)]! / 1000).toFixed(2)} s (min ${(wall[0]! / 1000).toFixed(2)}, max ${(wall[wall.length - 1]! / 1000).toFixed(2)}), ` +
          `peak RSS median ${rss[Math.floor(rss.length / 2)]!.toFixed(0)} MB (max ${rss[rss.length - 1]!.toFixed(0)}); ` +
          `${last.bundles} bundles, ${last.relatedImages} distinct images, ${last.addedPackages} packages added by dependencies`,
      );
    }
  } finally {
    if (!given) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
