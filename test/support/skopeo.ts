/**
 * skopeo is the independent client that checks what our tool wrote: if skopeo reads back the same
 * bytes from the destination as from the source, the mirror is right by a standard other than
 * our own code's.
 *
 * Every run is hermetic: no user or system registries.conf / registries.d / policy / auth.json
 * can change what a test sees (CONTAINERS_REGISTRIES_CONF, --registries.d, --insecure-policy and
 * an empty default auth file are always set).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTrackedDir, removeDir } from './cleanup.js';
import { requireTools } from './tools.js';
import type { TestRegistry } from './registry.js';

/** How skopeo reaches one registry. */
export interface SkopeoAccess {
  /** false for plain-http registries (or to skip certificate checks); default true */
  tlsVerify?: boolean;
  /** containers auth.json; default: an empty one (anonymous) */
  authFile?: string;
  /** directory with ca.crt (certs.d convention) */
  certDir?: string;
}

/** A TestRegistry or explicit access options. */
export type AccessLike = SkopeoAccess | TestRegistry;

export interface SkopeoResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface SkopeoRunOptions {
  /** return non-zero exits instead of throwing */
  allowFailure?: boolean;
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
}

function isRegistry(a: AccessLike): a is TestRegistry {
  return 'host' in a && 'url' in a;
}

/** skopeo's view of a TestRegistry: http ones need --tls-verify=false, https ones its CA. */
export function skopeoAccessFor(reg: TestRegistry): SkopeoAccess {
  return reg.tls ? { tlsVerify: true, certDir: reg.certDir, authFile: reg.authFile } : { tlsVerify: false, authFile: reg.authFile };
}

function toAccess(a: AccessLike | undefined): SkopeoAccess {
  if (!a) return {};
  return isRegistry(a) ? skopeoAccessFor(a) : a;
}

// Process-wide hermetic environment for skopeo: an empty registries.conf, an empty
// registries.d, an empty auth file.
let hermetic: { dir: string; registriesConf: string; registriesD: string; emptyAuth: string } | undefined;
function hermeticFiles() {
  if (!hermetic) {
    const dir = makeTrackedDir('skopeo');
    const registriesConf = join(dir, 'registries.conf');
    const registriesD = join(dir, 'registries.d');
    const emptyAuth = join(dir, 'empty-auth.json');
    writeFileSync(registriesConf, '');
    mkdirSync(registriesD);
    writeFileSync(emptyAuth, '{"auths":{}}\n');
    hermetic = { dir, registriesConf, registriesD, emptyAuth };
  }
  return hermetic;
}

/**
 * Runs `skopeo --insecure-policy --registries.d <empty> <args>`. Throws on a non-zero exit
 * (message includes the command line and stderr) unless `allowFailure`.
 */
export function skopeo(args: string[], opts: SkopeoRunOptions = {}): Promise<SkopeoResult> {
  const bin = requireTools().skopeo;
  const h = hermeticFiles();
  const full = ['--insecure-policy', '--registries.d', h.registriesD, ...args];
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      full,
      {
        encoding: 'buffer',
        maxBuffer: 256 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 120_000,
        env: { ...process.env, CONTAINERS_REGISTRIES_CONF: h.registriesConf, REGISTRY_AUTH_FILE: h.emptyAuth, ...opts.env },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        const result: SkopeoResult = { code, stdout, stderr: stderr.toString('utf8') };
        if (err && !opts.allowFailure) {
          const why = err.killed ? ` (killed: ${err.signal ?? 'timeout'})` : '';
          reject(new Error(`skopeo ${full.join(' ')} exited ${code}${why}: ${result.stderr.trim()}`));
        } else {
          resolve(result);
        }
      },
    );
  });
}

/** Flags for a command that takes one image (inspect, list-tags, delete). */
export function accessFlags(a: AccessLike | undefined): string[] {
  const s = toAccess(a);
  const flags = [`--tls-verify=${s.tlsVerify ?? true}`, '--authfile', s.authFile ?? hermeticFiles().emptyAuth];
  if (s.certDir) flags.push('--cert-dir', s.certDir);
  return flags;
}

/** Flags for one side of `skopeo copy` (`prefix` 'src' or 'dest'). */
export function copyFlags(prefix: 'src' | 'dest', a: AccessLike | undefined): string[] {
  const s = toAccess(a);
  const flags = [`--${prefix}-tls-verify=${s.tlsVerify ?? true}`, `--${prefix}-authfile`, s.authFile ?? hermeticFiles().emptyAuth];
  if (s.certDir) flags.push(`--${prefix}-cert-dir`, s.certDir);
  return flags;
}

/** `host/repo:tag` → `docker://host/repo:tag`; references with a transport are kept. */
export function transportRef(ref: string): string {
  return /^(docker|oci|oci-archive|dir|docker-archive|docker-daemon|containers-storage):/.test(ref) ? ref : `docker://${ref}`;
}

/** The raw manifest bytes, exactly as the registry serves them (`skopeo inspect --raw`). */
export async function inspectRaw(ref: string, access?: AccessLike): Promise<Buffer> {
  const r = await skopeo(['inspect', '--raw', ...accessFlags(access), transportRef(ref)]);
  return r.stdout;
}

/** `skopeo list-tags`: the tags of a repository (`host/repo`, no tag). */
export async function listTags(repoRef: string, access?: AccessLike): Promise<string[]> {
  const r = await skopeo(['list-tags', ...accessFlags(access), transportRef(repoRef)]);
  return (JSON.parse(r.stdout.toString('utf8')) as { Tags: string[] }).Tags ?? [];
}

/** `skopeo copy` between two references (default: all instances, digests preserved). */
export async function copyImage(
  src: string,
  dest: string,
  opts: { src?: AccessLike; dest?: AccessLike; all?: boolean; preserveDigests?: boolean } = {},
): Promise<void> {
  const args = ['copy', '--retry-times', '0'];
  if (opts.all ?? true) args.push('--all');
  if (opts.preserveDigests ?? true) args.push('--preserve-digests');
  args.push(...copyFlags('src', opts.src), ...copyFlags('dest', opts.dest), transportRef(src), transportRef(dest));
  await skopeo(args);
}

// ---------------------------------------------------------------------------------------------
// Comparing images

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
}

interface ParsedManifest {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

function parse(bytes: Buffer, what: string): ParsedManifest {
  try {
    return JSON.parse(bytes.toString('utf8')) as ParsedManifest;
  } catch (err) {
    throw new Error(`${what}: not JSON (${String(err)}): ${bytes.toString('utf8').slice(0, 200)}`);
  }
}

/** `docker://host/repo:tag` or `host/repo@sha256:...` → `docker://host/repo@<digest>`. */
function withDigest(ref: string, digest: string): string {
  const r = transportRef(ref);
  if (!r.startsWith('docker://')) throw new Error(`assertSameImage: child manifests can only be fetched by digest from docker:// references, not ${ref}`);
  const name = r.slice('docker://'.length);
  const at = name.indexOf('@');
  const base = at >= 0 ? name.slice(0, at) : name.replace(/:[^/:]+$/, '');
  return `docker://${base}@${digest}`;
}

/** Explains how two manifests differ: digests, media types, first differing byte with context. */
export function describeManifestDiff(src: Buffer, dest: Buffer): string {
  const mt = (b: Buffer) => {
    try {
      return (JSON.parse(b.toString('utf8')) as ParsedManifest).mediaType ?? '(no mediaType field)';
    } catch {
      return '(not JSON)';
    }
  };
  let i = 0;
  while (i < src.length && i < dest.length && src[i] === dest[i]) i++;
  const ctx = (b: Buffer) => JSON.stringify(b.subarray(Math.max(0, i - 40), i + 40).toString('utf8'));
  return [
    `source ${sha256(src)} (${src.length} bytes, ${mt(src)})`,
    `dest   ${sha256(dest)} (${dest.length} bytes, ${mt(dest)})`,
    `first difference at byte ${i}:`,
    `  source …${ctx(src)}…`,
    `  dest   …${ctx(dest)}…`,
  ].join('\n');
}

/** Recursively lists files of a dir: transport output, keyed by file name. */
function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? walk(p).map((x) => join(e, x)) : [e];
  });
}

async function fileDigest(path: string): Promise<{ digest: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${h.digest('hex')}`, size };
}

export interface SameImageOptions {
  src?: AccessLike;
  dest?: AccessLike;
  /** skip the blob download (only compare manifests): for very large images */
  manifestsOnly?: boolean;
}

/**
 * Asserts that `destRef` is a faithful copy of `srcRef`:
 *  1. the raw manifests are byte-identical at every level (the index/list and each child, the
 *     children fetched by digest from both sides);
 *  2. every config and layer blob they reference exists at the destination with the right
 *     content: `skopeo copy --all --preserve-digests` of the destination into a `dir:` directory
 *     (skopeo checks each blob's digest while copying; any missing blob fails the copy), then the
 *     set of blobs there is compared with the source's descriptors and each file re-hashed.
 * `dir:` rather than `oci:` because it stores any manifest type verbatim (no conversion), so
 * Docker lists and schema 2 images are checked as they are.
 * Throws an Error listing every difference found.
 */
export async function assertSameImage(srcRef: string, destRef: string, opts: SameImageOptions = {}): Promise<void> {
  const problems: string[] = [];
  const expectedBlobs = new Map<string, number>();
  const seen = new Set<string>();

  const compare = async (src: string, dest: string, level: string): Promise<void> => {
    const [s, d] = await Promise.all([inspectRaw(src, opts.src), inspectRaw(dest, opts.dest)]);
    if (!s.equals(d)) {
      problems.push(`${level}: manifests differ\n${describeManifestDiff(s, d)}`);
      return; // children/blobs of a differing manifest cannot be paired up
    }
    const m = parse(s, `${level} (${src})`);
    if (m.manifests) {
      for (const child of m.manifests) {
        if (seen.has(child.digest)) continue;
        seen.add(child.digest);
        await compare(withDigest(src, child.digest), withDigest(dest, child.digest), `${level} → ${child.digest}`);
      }
    }
    for (const b of [...(m.config ? [m.config] : []), ...(m.layers ?? [])]) expectedBlobs.set(b.digest, b.size);
  };
  await compare(srcRef, destRef, 'top-level manifest');

  if (problems.length === 0 && !opts.manifestsOnly) {
    const dir = makeTrackedDir('same-image');
    try {
      const copied = await skopeo(
        ['copy', '--all', '--preserve-digests', '--retry-times', '0', ...copyFlags('src', opts.dest), transportRef(destRef), `dir:${dir}`],
        { allowFailure: true },
      );
      if (copied.code !== 0) {
        problems.push(`copying the destination image ${destRef} failed (missing or corrupt blob?): ${copied.stderr.trim()}`);
      } else {
        // dir: names blobs by their hex digest; manifests are manifest.json / <hex>.manifest.json
        const files = new Set(walk(dir));
        for (const [digest, size] of expectedBlobs) {
          const hex = digest.slice(digest.indexOf(':') + 1);
          if (!files.has(hex)) {
            problems.push(`blob ${digest} (${size} bytes) is missing at the destination`);
            continue;
          }
          const got = await fileDigest(join(dir, hex));
          if (got.digest !== digest || got.size !== size) {
            problems.push(`blob ${digest}: destination has ${got.digest} (${got.size} bytes), expected ${size} bytes`);
          }
        }
        const extra = [...files].filter(
          (f) => /^[a-f0-9]{64}$/.test(f) && !expectedBlobs.has(`sha256:${f}`),
        );
        if (extra.length > 0) problems.push(`unexpected blobs copied from the destination: ${extra.join(', ')}`);
      }
    } finally {
      await removeDir(dir);
    }
  }

  if (problems.length > 0) {
    throw new Error(`images differ: ${srcRef} → ${destRef}\n- ${problems.join('\n- ')}`);
  }
}
