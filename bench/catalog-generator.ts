/**
 * Writes a file-based catalog shaped like Red Hat's operator index: about 200 packages and
 * 20 000 bundles in `configs/<package>/catalog.json` JSON streams, each bundle carrying an
 * embedded CSV (`olm.bundle.object`, base64), `olm.csv.metadata`, provided and required APIs and
 * a dozen related images, channels linked by replaces, skips and skipRange. Deterministic for a
 * given seed, so every run measures the same bytes.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { prng as random } from './dataset.js';

export interface GeneratedCatalog {
  packages: string[];
  bundles: number;
  bytes: number;
}


export function packageName(i: number): string {
  return `operator-${String(i).padStart(3, '0')}`;
}

export async function generateCatalog(dir: string, opts: { packages?: number; bundles?: number; seed?: number } = {}): Promise<GeneratedCatalog> {
  const packageCount = opts.packages ?? 200;
  const bundleTotal = opts.bundles ?? 20_000;
  const rand = random(opts.seed ?? 42);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  // Bundle counts per package vary a lot in the real index (1 to ~600); keep the total exact.
  const weights = Array.from({ length: packageCount }, () => rand() ** 3 + 0.05);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => Math.max(1, Math.floor((w / weightSum) * bundleTotal)));
  counts[0]! += bundleTotal - counts.reduce((a, b) => a + b, 0);

  const packages: string[] = [];
  let bytes = 0;
  for (let p = 0; p < packageCount; p++) {
    const name = packageName(p);
    packages.push(name);
    const count = counts[p]!;
    const pkgDir = join(dir, 'configs', name);
    mkdirSync(pkgDir, { recursive: true });
    const out = createWriteStream(join(pkgDir, 'catalog.json'));
    const write = async (object: unknown): Promise<void> => {
      const text = `${JSON.stringify(object, null, 4)}\n`;
      bytes += Buffer.byteLength(text);
      if (!out.write(text)) await once(out, 'drain');
    };
    const group = `${name.replace('operator-', 'op')}.example.com`;
    await write({
      schema: 'olm.package',
      name,
      defaultChannel: 'stable',
      description: `Operator ${name} manages things.\n`.repeat(20),
      icon: { base64data: Buffer.from(hex(2000)).toString('base64'), mediatype: 'image/svg+xml' },
    });
    // Versions: majors and minors, a few patches each; channels stable (all), fast (last third),
    // candidate (the latest minor, linked by skipRange only where OLM would still find one head).
    const versions = Array.from({ length: count }, (_, i) => `${1 + Math.floor(i / 60)}.${Math.floor(i / 6) % 10}.${i % 6}`);
    const bundleName = (i: number): string => `${name}.v${versions[i]}`;
    const chain = (from: number, to: number): Record<string, unknown>[] =>
      Array.from({ length: to - from }, (_, k) => {
        const i = from + k;
        const entry: Record<string, unknown> = { name: bundleName(i) };
        if (k > 0) entry.replaces = bundleName(i - 1);
        if (k > 1 && i % 7 === 0) entry.skips = [bundleName(i - 2)];
        if (i % 6 === 5) entry.skipRange = `>=${versions[Math.max(from, i - 5)]} <${versions[i]}`;
        return entry;
      });
    await write({ schema: 'olm.channel', package: name, name: 'stable', entries: chain(0, count) });
    if (count > 3) await write({ schema: 'olm.channel', package: name, name: 'fast', entries: chain(Math.floor((count * 2) / 3), count) });
    if (count > 1) await write({ schema: 'olm.channel', package: name, name: 'candidate', entries: chain(count - 1, count) });
    for (let i = 0; i < count; i++) {
      const version = versions[i]!;
      const image = (repo: string): string => `registry.example.com/${name}/${repo}@sha256:${hex(64)}`;
      const bundleImage = image(`${name}-bundle`);
      const csv = {
        apiVersion: 'operators.coreos.com/v1alpha1',
        kind: 'ClusterServiceVersion',
        metadata: { name: bundleName(i), annotations: { 'alm-examples': hex(1500) } },
        spec: { version, install: { spec: { deployments: [{ name, spec: { template: { spec: { containers: [{ image: image('manager') }] } } } }] } } },
        padding: hex(int(4000, 9000)),
      };
      const requires =
        p % 5 === 0 && p + 1 < packageCount
          ? [{ type: 'olm.gvk.required', value: { group: `op${String(p + 1).padStart(3, '0')}.example.com`, kind: 'Thing', version: 'v1' } }]
          : [];
      await write({
        schema: 'olm.bundle',
        name: bundleName(i),
        package: name,
        image: bundleImage,
        properties: [
          { type: 'olm.gvk', value: { group, kind: 'Thing', version: 'v1' } },
          { type: 'olm.gvk', value: { group, kind: 'OtherThing', version: 'v1beta1' } },
          { type: 'olm.package', value: { packageName: name, version } },
          ...requires,
          { type: 'olm.csv.metadata', value: { description: hex(int(1000, 3000)), displayName: name, keywords: ['a', 'b'] } },
          { type: 'olm.bundle.object', value: { data: Buffer.from(JSON.stringify(csv)).toString('base64') } },
        ],
        relatedImages: [
          { name: '', image: bundleImage },
          ...Array.from({ length: int(4, 14) }, (_, k) => ({ name: `img-${k}`, image: image(`component-${k}`) })),
        ],
      });
    }
    out.end();
    await once(out, 'finish');
  }
  return { packages, bundles: bundleTotal, bytes };
}
