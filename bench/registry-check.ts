/**
 * What the benchmark asks the registries, outside the timed parts: is the mirror complete and
 * byte-identical (digests), and how many HTTP requests did a run make (from the access log).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { clientFor, MediaTypes, type PushedImage } from '../test/support/images.js';
import type { TestRegistry } from '../test/support/registry.js';
import { pool } from './dataset.js';

const ACCEPT = [MediaTypes.ociIndex, MediaTypes.ociManifest, MediaTypes.dockerList, MediaTypes.dockerManifest].join(', ');

export interface VerifyResult {
  ok: boolean;
  manifestsChecked: number;
  blobsChecked: number;
  problems: string[];
  /** images whose top manifest the tool converted (accepted because of VerifyOptions.mayConvert): `repo:tag source → mirror` */
  converted: string[];
}

export interface VerifyOptions {
  /**
   * Images whose manifests the tool is known to rewrite (skopeo stores Docker schema 2 manifests
   * and lists in an `oci:` layout only converted to OCI, configs and a list's children included):
   * the tag must exist; when its digest differs, it is recorded in `converted` and only its layers
   * are checked (children and configs are other ones); otherwise everything is checked as usual.
   */
  mayConvert?: (img: PushedImage) => boolean;
}

/**
 * Checks that `dst` has every image at `<prefix>/<repo>:<tag>` with the source's digest, every
 * child manifest of an index by digest, and every config/layer blob with the right size (HEAD
 * requests only, so it stays cheap).
 */
export async function verifyMirror(dst: TestRegistry, prefix: string, pushed: PushedImage[], options: VerifyOptions = {}): Promise<VerifyResult> {
  const http = clientFor(dst);
  const problems: string[] = [];
  const converted: string[] = [];
  let manifests = 0;
  let blobs = 0;
  /** 'converted': there, with another digest, and allowed to (see mayConvert); 'wrong' is recorded in problems */
  const headManifest = async (repo: string, ref: string, want: string, mayConvert = false): Promise<'ok' | 'converted' | 'wrong'> => {
    manifests++;
    const res = await http.request('HEAD', `/v2/${repo}/manifests/${ref}`, { headers: { accept: ACCEPT } });
    const got = res.headers['docker-content-digest'];
    if (res.status !== 200) problems.push(`${repo}:${ref}: HTTP ${res.status}`);
    else if (got === want) return 'ok';
    else if (mayConvert) {
      converted.push(`${repo}:${ref} ${want} → ${String(got)}`);
      return 'converted';
    } else problems.push(`${repo}:${ref}: digest ${String(got)}, source has ${want}`);
    return 'wrong';
  };
  await pool(pushed, 8, async (img) => {
    const repo = prefix ? `${prefix}/${img.repo}` : img.repo;
    // a converted manifest has other children and other configs: only its layers are checked
    const converted = (await headManifest(repo, img.tag ?? img.digest, img.digest, options.mayConvert?.(img) ?? false)) === 'converted';
    if (!converted) for (const child of img.children ?? []) await headManifest(repo, child.digest, child.digest);
    const configs = new Set([img, ...(img.children ?? [])].map((i) => i.config?.digest));
    for (const b of img.blobs) {
      if (converted && configs.has(b.digest)) continue;
      blobs++;
      const res = await http.request('HEAD', `/v2/${repo}/blobs/${b.digest}`);
      const len = Number(res.headers['content-length']);
      if (res.status !== 200) problems.push(`${repo}@${b.digest}: blob HTTP ${res.status}`);
      else if (len !== b.size) problems.push(`${repo}@${b.digest}: blob is ${len} bytes, source has ${b.size}`);
    }
  });
  return { ok: problems.length === 0, manifestsChecked: manifests, blobsChecked: blobs, problems, converted };
}

/** HTTP requests of one run by method and kind, e.g. `HEAD blob: 120`. */
export type RequestCounts = Record<string, number>;

let markers = 0;

/**
 * Brackets a run in a registry's access log: `start()` before, `stop()` after it, and the
 * requests logged in between are counted. The markers are GET /v2/?bench-mark=… requests, so the
 * count survives the log buffer of TestRegistry being trimmed.
 */
export async function accessLogWindow(reg: TestRegistry): Promise<{ stop(): Promise<RequestCounts> }> {
  const id = `${process.pid}-${++markers}`;
  const begin = `bench-mark=${id}-begin`;
  const end = `bench-mark=${id}-end`;
  await mark(reg, begin);
  return {
    async stop() {
      await mark(reg, end);
      const log = reg.logs();
      const from = log.lastIndexOf(begin);
      const to = log.lastIndexOf(end);
      if (from < 0 || to < 0) return { unknown: 1 };
      return countRequests(log.slice(log.indexOf('\n', from) + 1, log.lastIndexOf('\n', to)));
    },
  };
}

async function mark(reg: TestRegistry, marker: string): Promise<void> {
  const res = await fetch(`${reg.url}/v2/?${marker}`);
  await res.arrayBuffer();
  // the access log line is written after the answer, and reaches us through a pipe
  for (let i = 0; i < 200 && !reg.logs().includes(marker); i++) await sleep(5);
}

const ACCESS_RE = /"(GET|HEAD|POST|PUT|PATCH|DELETE) \/v2\/(\S*) HTTP\/[\d.]+" (\d{3})/g;

export function countRequests(log: string): RequestCounts {
  const counts: RequestCounts = {};
  let total = 0;
  for (const m of log.matchAll(ACCESS_RE)) {
    const [, method, path, status] = m;
    const kind = path === '' || path!.startsWith('?') ? 'base' : path!.includes('/blobs/uploads/') ? 'upload' : path!.includes('/blobs/') ? 'blob' : path!.includes('/manifests/') ? 'manifest' : 'other';
    const mount = method === 'POST' && /[?&]mount=/.test(path!);
    const key = `${method} ${kind}${mount ? ' mount' : ''}${mount || !status!.startsWith('2') ? ` ${status}` : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
    total++;
  }
  counts.total = total;
  return counts;
}
