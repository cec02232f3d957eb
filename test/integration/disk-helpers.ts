/**
 * Shared steps of the disk workflow integration tests (mirror to disk, disk to mirror): running
 * the CLI in both directions, reading and building tar archives by hand (independently of
 * src/archive), and looking at the local store on disk.
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { CliResult } from '../support/cli.js';
import { removeDir, type Hookable } from '../support/cleanup.js';
import type { PushedImage } from '../support/images.js';
import { ocMirror, sandbox, type Sandbox } from './m2m-helpers.js';
import { ustarHeader } from '../support/tar.js';

export interface DiskBox extends Sandbox {
  /** M2D destination (archives and working-dir) */
  out: string;
  /** --cache-dir of the M2D side */
  cache: string;
}

/** A fresh sandbox removed after the test: `out/` for archives, `cache/` for the store. */
export function diskBox(t: Hookable): DiskBox {
  const box = sandbox();
  t.after(() => removeDir(box.dir));
  return { ...box, out: join(box.dir, 'out'), cache: join(box.dir, 'cache') };
}

/** `<cache-dir>/.oc-mirror/.cache`: the store root (the directory holding `docker/`). */
export function storeRootOf(cacheDir: string): string {
  return join(cacheDir, '.oc-mirror', '.cache');
}

/** `oc-mirror -c isc file://<out> --cache-dir <cache> --src-tls-verify=false ...extra` */
export function runM2D(box: Sandbox, isc: string, out: string, cache: string, extra: string[] = [], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return ocMirror(box, ['-c', isc, `file://${out}`, '--cache-dir', cache, '--src-tls-verify=false', '--retry-times', '0', ...extra], env);
}

/** `oc-mirror -c isc --from file://<from> docker://<dest> --cache-dir <cache> --dest-tls-verify=false ...extra` */
export function runD2M(
  box: Sandbox,
  isc: string,
  from: string,
  dest: string,
  cache: string,
  extra: string[] = [],
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  return ocMirror(box, ['-c', isc, '--from', `file://${from}`, `docker://${dest}`, '--cache-dir', cache, '--dest-tls-verify=false', '--retry-times', '0', ...extra], env);
}

/** Non-empty lines of a stream. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

// ---------------------------------------------------------------------------------------------
// Tar, read and written here by hand (not with src/archive): what a user's tools would see.

export interface TarItem {
  name: string;
  /** typeflag: '0' file, '5' directory, '2' symlink, '1' hard link, ... */
  type: string;
  size: number;
  /** offset of the entry's data in the file */
  offset: number;
  linkName: string;
}

function cstr(b: Buffer, start: number, len: number): string {
  const s = b.subarray(start, start + len);
  const nul = s.indexOf(0);
  return s.subarray(0, nul === -1 ? s.length : nul).toString('utf8');
}

function octalField(b: Buffer, start: number, len: number): number {
  const s = cstr(b, start, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

/** The entries of a ustar / GNU / PAX tar file, with the offset of each entry's data. */
export function readTar(path: string): TarItem[] {
  const buf = readFileSync(path);
  const items: TarItem[] = [];
  let off = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const size = octalField(h, 124, 12);
    const type = cstr(h, 156, 1) || '0';
    const dataOff = off + 512;
    const data = buf.subarray(dataOff, dataOff + size);
    off = dataOff + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = cstr(data, 0, data.length);
      continue;
    }
    if (type === 'K') {
      longLink = cstr(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      let text = data.toString('utf8');
      while (text.length) {
        const sp = text.indexOf(' ');
        const len = parseInt(text.slice(0, sp), 10);
        const rec = text.slice(sp + 1, len - 1);
        const eq = rec.indexOf('=');
        pax[rec.slice(0, eq)] = rec.slice(eq + 1);
        text = text.slice(len);
      }
      continue;
    }
    const prefix = cstr(h, 345, 155);
    const ustarName = prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100);
    const name = pax.path ?? longName ?? ustarName;
    const realSize = pax.size !== undefined ? Number(pax.size) : size;
    items.push({ name, type, size: realSize, offset: dataOff, linkName: pax.linkpath ?? longLink ?? cstr(h, 157, 100) });
    longName = longLink = undefined;
    pax = {};
  }
  return items;
}

/** `tar -tf` of the system tar: the names an independent tool sees. */
export function tarList(path: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('tar', ['-tf', path], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tar -tf ${path}: ${stderr}`));
      else resolve(lines(stdout));
    });
  });
}

/** Runs the system tar with arguments (for building archives the way a user's tools do). */
export function systemTar(args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('tar', args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`tar ${args.join(' ')}: ${stderr}`));
      else resolve();
    });
  });
}

export interface RawEntry {
  name: string;
  /** default '0' (regular file) */
  type?: string;
  data?: Buffer;
  linkName?: string;
}

/** One ustar header (name up to 100 bytes, no prefix: these are hand-made hostile entries). */
function header(e: RawEntry, size: number): Buffer {
  return ustarHeader({ name: e.name, size, type: e.type ?? '0', mode: 0o644, ...(e.linkName && { linkName: e.linkName }) });
}

/** One PAX extended header record, `"<len> key=value\n"` where len counts itself. */
export function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body);
  while (len !== Buffer.byteLength(body) + String(len).length) len = Buffer.byteLength(body) + String(len).length;
  return Buffer.from(`${len}${body}`);
}

/** Entries as tar blocks, without the end-of-archive blocks. */
export function rawTarEntries(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    parts.push(header(e, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  return Buffer.concat(parts);
}

/** A whole tar of hand-made entries (two zero blocks at the end). */
export function rawTar(entries: RawEntry[]): Buffer {
  return Buffer.concat([rawTarEntries(entries), Buffer.alloc(1024)]);
}

/**
 * A valid archive (ending in exactly two zero blocks, as ours and Go's archive/tar write) with
 * more entries appended after its content.
 */
export function appendToArchive(archive: Buffer, entries: RawEntry[]): Buffer {
  const end = archive.subarray(archive.length - 1024);
  if (!end.every((x) => x === 0)) throw new Error('appendToArchive: the archive does not end with two zero blocks');
  return Buffer.concat([archive.subarray(0, archive.length - 1024), rawTarEntries(entries), Buffer.alloc(1024)]);
}

// ---------------------------------------------------------------------------------------------
// Looking at the store and at directories

/** Digests of the blob data files of a distribution layout root (`<root>/docker/registry/v2/blobs`). */
export function storeBlobs(root: string): string[] {
  const dir = join(root, 'docker', 'registry', 'v2', 'blobs', 'sha256');
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const two of readdirSync(dir)) {
    for (const hex of readdirSync(join(dir, two))) {
      if (existsSync(join(dir, two, hex, 'data'))) found.push(`sha256:${hex}`);
    }
  }
  return found.sort();
}

/** Every file and symlink below `dir` (relative paths), for "nothing was written" checks. */
export function listTree(dir: string, skip: (rel: string) => boolean = () => false): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const rel = relative(dir, p);
      if (skip(rel)) continue;
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else out.push(rel);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

export function fileSize(path: string): number {
  return statSync(path).size;
}

/** Every digest an image consists of: its manifests (index and children) and their blobs. */
export function imageDigests(image: PushedImage): Map<string, number> {
  const m = new Map<string, number>();
  const add = (i: PushedImage) => {
    m.set(i.digest, i.manifest.length);
    for (const b of i.blobs) m.set(b.digest, b.size);
    for (const c of i.children ?? []) add(c);
  };
  add(image);
  return m;
}

/** `docker/registry/v2/blobs/sha256/<xx>/<hex>/data` → `sha256:<hex>`; other names → undefined. */
export function blobOfEntry(name: string): string | undefined {
  const m = /^docker\/registry\/v2\/blobs\/sha256\/[0-9a-f]{2}\/([0-9a-f]{64})\/data$/.exec(name);
  return m ? `sha256:${m[1]}` : undefined;
}

/** `docker/registry/v2/repositories/<repo>/_manifests|_layers/...` → `<repo>`; other names → undefined. */
export function repositoryOfEntry(name: string): string | undefined {
  const m = /^docker\/registry\/v2\/repositories\/(.+?)\/_(manifests|layers|uploads)\//.exec(name);
  return m ? m[1] : undefined;
}

/** Blob GET requests in a distribution access log (`"GET /v2/<repo>/blobs/<digest> HTTP`). */
export function blobGets(log: string): { repo: string; digest: string }[] {
  return [...log.matchAll(/"GET \/v2\/(.+?)\/blobs\/(sha256:[0-9a-f]{64}) HTTP/g)].map((m) => ({ repo: m[1]!, digest: m[2]! }));
}
