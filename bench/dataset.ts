/**
 * The benchmark's data set: ~30 images in a source registry, single and multi-arch, OCI and Docker
 * formats, three shared base layers and unique app layers, about 500 MB of distinct blob bytes.
 *
 * Everything is deterministic (a fixed-seed PRNG picks sizes, test/support/images.ts derives the
 * bytes from seeds), so every run and machine mirrors exactly the same blobs.
 */
import { clientFor, layerInfo, layerStream, pushBlob, pushImage, type ImageSpec, type PlatformSpec, type PushedImage } from '../test/support/images.js';
import type { TestRegistry } from '../test/support/registry.js';

const MiB = 1024 * 1024;

/** Where the base layers are uploaded once; every image repository mounts them from here. */
const BASE_REPO = 'bench/base';

interface BaseLayer {
  seed: string;
  size: number;
}

export const BASES: BaseLayer[] = [
  { seed: 'bench/base-a', size: 40 * MiB },
  { seed: 'bench/base-b', size: 30 * MiB },
  { seed: 'bench/base-c', size: 20 * MiB },
];

const AMD64: PlatformSpec = { os: 'linux', architecture: 'amd64' };
const ARM64: PlatformSpec = { os: 'linux', architecture: 'arm64', variant: 'v8' };
const PPC64LE: PlatformSpec = { os: 'linux', architecture: 'ppc64le' };
const S390X: PlatformSpec = { os: 'linux', architecture: 's390x' };

export interface BenchImage {
  repo: string;
  tag: string;
  spec: ImageSpec;
  /** which BASES entry it is built on */
  base: number;
}

/** mulberry32: a tiny deterministic PRNG, so sizes do not depend on Math.random. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * 30 images `bench/img01..img30:v1`:
 * - base layer: image i is built on BASES[i % 3] (so each base is shared by 10 images);
 * - format: 40 % Docker schema 2 (i % 5 in {1, 3}), the rest OCI;
 * - platforms: every 5th image is a 2-platform index (amd64 + arm64), every 7th a 3-platform one
 *   (amd64 + arm64 + ppc64le/s390x): 10 multi-arch images, 44 platform images in all;
 * - one unique app layer of 1–14 MiB per platform image, plus a small 1–3 MiB one on every other
 *   image. Multi-arch children share their image's base layer (it keeps the byte budget near
 *   500 MB; the copy cost of a shared vs per-arch base is the same mount/HEAD logic).
 */
export function benchImages(count = 30): BenchImage[] {
  const rand = prng(20240611);
  const pick = (lo: number, hi: number) => Math.round((lo + rand() * (hi - lo)) * MiB);
  const images: BenchImage[] = [];
  for (let i = 1; i <= count; i++) {
    const base = i % 3;
    const format = i % 5 === 1 || i % 5 === 3 ? 'docker' : 'oci';
    const platforms = i % 7 === 0 ? [AMD64, ARM64, i % 2 ? PPC64LE : S390X] : i % 5 === 0 ? [AMD64, ARM64] : undefined;
    const layers = [{ seed: BASES[base]!.seed, size: BASES[base]!.size }, { size: pick(1, 14) }];
    if (i % 2 === 0) layers.push({ size: pick(1, 3) });
    const repo = `bench/img${String(i).padStart(2, '0')}`;
    images.push({ repo, tag: 'v1', base, spec: { format, layers, ...(platforms && { platforms }) } });
  }
  return images;
}

/**
 * The image the incremental measurement (bench/disk.ts) adds to the source after a first mirror to
 * disk: `bench/img31:v1`, built on a base layer the first archive already carried, plus new layers
 * of `newMiB` each and its own config.
 */
export function incrementalImage(newMiB: number[] = [6, 2]): BenchImage {
  const base = 1;
  const layers = [{ seed: BASES[base]!.seed, size: BASES[base]!.size }, ...newMiB.map((m) => ({ size: Math.round(m * MiB) }))];
  return { repo: 'bench/img31', tag: 'v1', base, spec: { format: 'oci', layers } };
}

/** The large-layer image: one single layer of `sizeMiB`. */
export function largeImage(sizeMiB: number): BenchImage {
  return { repo: 'bench/large', tag: 'v1', base: -1, spec: { format: 'oci', layers: [{ seed: 'bench/large-layer', size: sizeMiB * MiB }] } };
}

export interface DatasetSummary {
  images: number;
  singleArch: number;
  multiArch: number;
  platformImages: number;
  oci: number;
  docker: number;
  /** distinct config + layer blobs */
  distinctBlobs: number;
  distinctBytes: number;
  /** sum over images of their blob bytes, counting shared blobs once per image (what a tool without dedup would move) */
  referencedBytes: number;
  largestBlob: number;
}

export function summarise(pushed: PushedImage[], images: BenchImage[]): DatasetSummary {
  const distinct = new Map<string, number>();
  let referenced = 0;
  for (const p of pushed) {
    for (const b of p.blobs) {
      distinct.set(b.digest, b.size);
      referenced += b.size;
    }
  }
  const sizes = [...distinct.values()];
  return {
    images: pushed.length,
    singleArch: images.filter((i) => !i.spec.platforms).length,
    multiArch: images.filter((i) => i.spec.platforms).length,
    platformImages: images.reduce((n, i) => n + (i.spec.platforms?.length ?? 1), 0),
    oci: images.filter((i) => i.spec.format !== 'docker').length,
    docker: images.filter((i) => i.spec.format === 'docker').length,
    distinctBlobs: distinct.size,
    distinctBytes: sizes.reduce((a, b) => a + b, 0),
    referencedBytes: referenced,
    largestBlob: Math.max(...sizes),
  };
}

/**
 * Runs `fn` over `items`, `width` at a time; results keep the items' order. `worker` (0 ≤ worker <
 * width) says which of the `width` workers runs the item: no two items of one worker overlap.
 */
export async function pool<T, R>(items: T[], width: number, fn: (item: T, index: number, worker: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (_: unknown, w: number) => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!, i, w);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}

/**
 * Pushes the data set. Base layers are uploaded once to `bench/base` and cross-repository mounted
 * into each image repository first (pushImage then finds them by HEAD and skips them), which keeps
 * generation to about one upload of the distinct bytes.
 */
export async function pushDataset(src: TestRegistry, images: BenchImage[]): Promise<PushedImage[]> {
  const http = clientFor(src);
  const bases = BASES.map((b) => ({ ...b, info: layerInfo(b.seed, b.size) }));
  for (const b of bases) await pushBlob(src, BASE_REPO, { ...b.info, stream: () => layerStream(b.seed, b.size) });
  return pool(images, 3, async (img) => {
    if (img.base >= 0) {
      const { info } = bases[img.base]!;
      await http.expect('POST', `/v2/${img.repo}/blobs/uploads/?mount=${info.digest}&from=${BASE_REPO}`, [201], { repo: img.repo });
    }
    return pushImage(src, img.repo, img.tag, img.spec);
  });
}
