/**
 * Builds operator catalog images in a test registry, independently of src/operator: a tiny base
 * layer, then a gzip tar layer holding the FBC (one `catalog.json` JSON stream per package under
 * the configs directory) and a stand-in opm cache in `/tmp/cache`, the label
 * `operators.operatorframework.io.index.configs.v1`, an opm-like command, and an index with one
 * manifest per platform. Also reads a pulled-back catalog (an OCI layout written by skopeo) with
 * the system tar, so what the tool rebuilt is checked by tools nobody here wrote.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { layerInfo, layerStream, MediaTypes, pushBlob, pushImage, pushManifest, type PlatformSpec, type PushTarget, type PushedImage } from './images.js';
import { ustarHeader } from './tar.js';

export const CONFIGS_LABEL = 'operators.operatorframework.io.index.configs.v1';

export type FbcObject = Record<string, unknown>;

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

function header(name: string, size: number, type: '0' | '5', mode: number): Buffer {
  return ustarHeader({ name, size, type, mode, mtime: 1_700_000_000 });
}

/** A tar of directories (names ending in `/`) and files. */
export function tarOf(entries: { name: string; data?: Buffer; mode?: number }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const dir = e.name.endsWith('/');
    const data = e.data ?? Buffer.alloc(0);
    parts.push(header(e.name, dir ? 0 : data.length, dir ? '5' : '0', e.mode ?? (dir ? 0o755 : 0o644)));
    if (!dir) parts.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** FBC objects grouped per package as JSON streams, as opm writes them. */
export function fbcFiles(objects: FbcObject[]): Map<string, Buffer> {
  const byPackage = new Map<string, FbcObject[]>();
  for (const o of objects) {
    const pkg = String(o.schema === 'olm.package' ? o.name : o.package);
    if (!byPackage.has(pkg)) byPackage.set(pkg, []);
    byPackage.get(pkg)!.push(o);
  }
  return new Map([...byPackage].map(([pkg, list]) => [`${pkg}/catalog.json`, Buffer.from(list.map((o) => JSON.stringify(o, null, 2)).join('\n') + '\n')]));
}

export interface CatalogSpec {
  objects: FbcObject[];
  /** default two platforms: linux/amd64 and linux/arm64 */
  platforms?: PlatformSpec[];
  /** the label's value, default `/configs`; null: no label at all */
  label?: string | null;
}

/** Pushes a catalog image (an index of one manifest per platform) and returns it. */
export async function pushCatalog(reg: PushTarget, repo: string, tag: string, spec: CatalogSpec): Promise<PushedImage> {
  const label = spec.label === undefined ? '/configs' : spec.label;
  const dir = (label ?? '/configs').replace(/^\/+|\/+$/g, '');
  const files = fbcFiles(spec.objects);
  const entries: { name: string; data?: Buffer; mode?: number }[] = [{ name: `${dir}/` }];
  for (const [path, data] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    entries.push({ name: `${dir}/${path.split('/')[0]}/` }, { name: `${dir}/${path}`, data });
  }
  entries.push({ name: 'tmp/', mode: 0o1777 }, { name: 'tmp/cache/' }, { name: 'tmp/cache/cache.json', data: Buffer.from('{"stale":true}\n') });
  const tar = tarOf(entries);
  const fbcLayer = gzipSync(tar);
  const fbcRef = await pushBlob(reg, repo, fbcLayer);
  const base = layerInfo(`catalog-base/${repo}`, 2048);
  await pushBlob(reg, repo, { ...base, stream: () => layerStream(`catalog-base/${repo}`, 2048) });
  const platforms = spec.platforms ?? [
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'arm64' },
  ];
  const children: PushedImage[] = [];
  for (const p of platforms) {
    const config = Buffer.from(
      JSON.stringify({
        architecture: p.architecture,
        os: p.os,
        created: '2024-01-01T00:00:00Z',
        config: {
          Entrypoint: ['/bin/opm'],
          Cmd: ['serve', '/configs', '--cache-dir=/tmp/cache'],
          Labels: label === null ? { 'test.catalog': repo } : { [CONFIGS_LABEL]: label, 'test.catalog': repo },
        },
        rootfs: { type: 'layers', diff_ids: [base.diffId, sha256(tar)] },
        history: [{ created: '2024-01-01T00:00:00Z', created_by: 'base' }, { created: '2024-01-01T00:00:00Z', created_by: 'configs' }],
      }),
    );
    const configRef = await pushBlob(reg, repo, config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociManifest,
        config: { mediaType: MediaTypes.ociConfig, ...configRef },
        layers: [
          { mediaType: MediaTypes.ociLayerGzip, digest: base.digest, size: base.size },
          { mediaType: MediaTypes.ociLayerGzip, ...fbcRef },
        ],
      }),
    );
    const digest = await pushManifest(reg, repo, sha256(manifest), manifest, MediaTypes.ociManifest);
    children.push({
      reference: `${reg.host}/${repo}@${digest}`,
      digestReference: `${reg.host}/${repo}@${digest}`,
      repo,
      digest,
      mediaType: MediaTypes.ociManifest,
      manifest,
      config: configRef,
      layers: [{ digest: base.digest, size: base.size }, fbcRef],
      platform: p,
      blobs: [configRef, { digest: base.digest, size: base.size }, fbcRef],
    });
  }
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests: children.map((c) => ({ mediaType: c.mediaType, digest: c.digest, size: c.manifest.length, platform: c.platform })),
    }),
  );
  const digest = await pushManifest(reg, repo, tag, index, MediaTypes.ociIndex);
  return {
    reference: `${reg.host}/${repo}:${tag}`,
    digestReference: `${reg.host}/${repo}@${digest}`,
    repo,
    tag,
    digest,
    mediaType: MediaTypes.ociIndex,
    manifest: index,
    children,
    blobs: [...new Map(children.flatMap((c) => c.blobs).map((b) => [b.digest, b])).values()],
  };
}

/** A small single-platform image standing for a bundle or an operand. */
export function pushSmallImage(reg: PushTarget, repo: string, tag: string | null): Promise<PushedImage> {
  return pushImage(reg, repo, tag, { layers: [{ size: 256 }] });
}

// ---------------------------------------------------------------------------------------------
// Reading a catalog back from an OCI layout (skopeo copy docker://… oci:<dir>)

export interface LayoutImage {
  index: { manifests: { digest: string; platform?: PlatformSpec }[] };
  manifests: { digest: string; manifest: { layers: { digest: string; mediaType: string }[]; config: { digest: string } }; config: Record<string, any> }[];
}

function blob(dir: string, digest: string): Buffer {
  return readFileSync(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
}

/** The index and each platform's manifest and config of a layout holding one image index. */
export function readLayout(dir: string): LayoutImage {
  const top = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const index = JSON.parse(blob(dir, top.manifests[0]!.digest).toString('utf8')) as LayoutImage['index'];
  const manifests = index.manifests.map((d) => {
    const manifest = JSON.parse(blob(dir, d.digest).toString('utf8')) as LayoutImage['manifests'][number]['manifest'];
    return { digest: d.digest, manifest, config: JSON.parse(blob(dir, manifest.config.digest).toString('utf8')) as Record<string, any> };
  });
  return { index, manifests };
}

/**
 * The files an image's layers leave under `dir` (e.g. `configs`), applying whiteouts, by
 * extracting the layers in order with the system tar into a scratch directory.
 */
export function filesUnder(layoutDir: string, layers: { digest: string }[], dir: string, scratch: string): Map<string, string> {
  const root = join(scratch, 'rootfs');
  mkdirSync(root, { recursive: true });
  for (const l of layers) {
    const listing = execFileSync('tar', ['-tzf', join(layoutDir, 'blobs', 'sha256', l.digest.slice(7))], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const name of listing) {
      const clean = name.replace(/^\.\//, '');
      const base = clean.slice(clean.lastIndexOf('/') + 1);
      const parent = clean.slice(0, clean.length - base.length);
      if (base === '.wh..wh..opq') execFileSync('rm', ['-rf', join(root, parent)]);
      else if (base.startsWith('.wh.')) execFileSync('rm', ['-rf', join(root, parent, base.slice(4))]);
    }
    execFileSync('tar', ['-xzf', join(layoutDir, 'blobs', 'sha256', l.digest.slice(7)), '-C', root, '--exclude=*.wh.*', '--no-same-owner']);
  }
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    const abs = join(root, rel);
    for (const name of execFileSync('ls', ['-A', abs], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
      const path = `${rel}/${name}`;
      const stat = execFileSync('stat', ['-c', '%F', join(root, path)], { encoding: 'utf8' }).trim();
      if (stat === 'directory') walk(path);
      else out.set(path.slice(dir.length + 1), readFileSync(join(root, path), 'utf8'));
    }
  };
  walk(dir);
  return out;
}
