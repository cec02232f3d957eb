/**
 * Helm charts for tests, built here independently of src/helm: a chart builder (Chart.yaml,
 * values, templates, vendored sub-charts as directories or archives), a chart repository served on
 * loopback (index.yaml with digests, chart archives, optional Basic auth, a request log), and a
 * pusher of charts to a registry as OCI artifacts (Helm's media types).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { pushBlob, pushManifest, type PushTarget } from './images.js';
import { LOOPBACK } from './ports.js';
import { ustarHeader } from './tar.js';

export interface ChartSpec {
  name: string;
  version: string;
  appVersion?: string;
  type?: 'application' | 'library';
  /** Chart.yaml `dependencies` */
  dependencies?: { name: string; version?: string; alias?: string; condition?: string; tags?: string[]; repository?: string }[];
  /** values.yaml text */
  values?: string;
  /** path under templates/ → text */
  templates?: Record<string, string>;
  /** other files (path from the chart root → text) */
  files?: Record<string, string>;
  /** vendored sub-charts: as directories under charts/ or as charts/<name>-<version>.tgz */
  subcharts?: { chart: ChartSpec; as: 'dir' | 'tgz' }[];
}

/** Every file of a chart, paths relative to its root. */
export function chartFiles(spec: ChartSpec): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const chartYaml: Record<string, unknown> = { apiVersion: 'v2', name: spec.name, version: spec.version };
  if (spec.appVersion) chartYaml.appVersion = spec.appVersion;
  if (spec.type) chartYaml.type = spec.type;
  if (spec.dependencies) chartYaml.dependencies = spec.dependencies;
  files.set('Chart.yaml', Buffer.from(stringify(chartYaml)));
  if (spec.values !== undefined) files.set('values.yaml', Buffer.from(spec.values));
  for (const [p, text] of Object.entries(spec.templates ?? {})) files.set(`templates/${p}`, Buffer.from(text));
  for (const [p, text] of Object.entries(spec.files ?? {})) files.set(p, Buffer.from(text));
  for (const sub of spec.subcharts ?? []) {
    if (sub.as === 'tgz') files.set(`charts/${sub.chart.name}-${sub.chart.version}.tgz`, packChart(sub.chart));
    else for (const [p, data] of chartFiles(sub.chart)) files.set(`charts/${sub.chart.name}/${p}`, data);
  }
  return files;
}

/** Writes a chart as a directory (`<dir>` is the chart root). */
export function writeChartDir(dir: string, spec: ChartSpec): string {
  for (const [p, data] of chartFiles(spec)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), data);
  }
  return dir;
}

function header(name: string, size: number, type = '0'): Buffer {
  return ustarHeader({ name, size, type, mode: 0o644 });
}

/** A gzipped tar of raw entries (names as given: lets tests build hostile archives). */
export function tgz(entries: { name: string; data?: Buffer | string; type?: string }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0));
    parts.push(header(e.name, data.length, e.type), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

/** `helm package`: the chart under a top-level directory named after it. */
export function packChart(spec: ChartSpec): Buffer {
  return tgz([...chartFiles(spec)].map(([p, data]) => ({ name: `${spec.name}/${p}`, data })));
}

export interface HelmRepo {
  /** `http://127.0.0.1:<port>/<prefix>/` */
  url: string;
  host: string;
  /** request paths served so far, in order */
  requests: string[];
  /** the archive served for a chart */
  archive(name: string, version: string): Buffer;
  stop(): Promise<void>;
}

export interface HelmRepoOptions {
  /** path of the repository on the server; default `charts` */
  prefix?: string;
  /** Basic credentials every request must carry */
  auth?: { username: string; password: string };
  /** index URLs: relative (default, as `helm repo index`) or absolute */
  absoluteUrls?: boolean;
}

/** Serves charts as a Helm repository on loopback; the index lists them with sha256 digests. */
export async function startHelmRepo(charts: ChartSpec[], opts: HelmRepoOptions = {}): Promise<HelmRepo> {
  const prefix = opts.prefix ?? 'charts';
  const archives = new Map<string, Buffer>();
  for (const c of charts) archives.set(`${c.name}-${c.version}.tgz`, packChart(c));
  const requests: string[] = [];
  let base = '';
  const index = () => {
    const entries: Record<string, unknown[]> = {};
    for (const c of charts) {
      const file = `${c.name}-${c.version}.tgz`;
      (entries[c.name] ??= []).push({
        apiVersion: 'v2',
        name: c.name,
        version: c.version,
        ...(c.appVersion && { appVersion: c.appVersion }),
        ...(c.type && { type: c.type }),
        urls: [opts.absoluteUrls ? `${base}${file}` : file],
        digest: createHash('sha256').update(archives.get(file)!).digest('hex'),
        created: '2025-01-01T00:00:00Z',
      });
    }
    return stringify({ apiVersion: 'v1', entries, generated: '2025-01-01T00:00:00Z' });
  };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(path);
    if (opts.auth) {
      const expected = `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="charts"' }).end('unauthorized');
        return;
      }
    }
    if (path === `/${prefix}/index.yaml`) {
      res.writeHead(200, { 'content-type': 'application/x-yaml' }).end(index());
      return;
    }
    const file = path.startsWith(`/${prefix}/`) ? archives.get(path.slice(prefix.length + 2)) : undefined;
    if (file) res.writeHead(200, { 'content-type': 'application/gzip' }).end(file);
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('helm repo: no TCP address');
  const host = `${LOOPBACK}:${address.port}`;
  base = `http://${host}/${prefix}/`;
  return {
    url: base,
    host,
    requests,
    archive: (name, version) => archives.get(`${name}-${version}.tgz`)!,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const HELM_MEDIA_TYPES = {
  config: 'application/vnd.cncf.helm.config.v1+json',
  chart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
} as const;

/** `helm push`: the chart as an OCI artifact at `<repo>/<name>:<version>`; returns the manifest digest. */
export async function pushOciChart(reg: PushTarget, repoPath: string, spec: ChartSpec): Promise<{ reference: string; digest: string }> {
  const repo = `${repoPath}/${spec.name}`;
  const config = Buffer.from(JSON.stringify({ name: spec.name, version: spec.version, apiVersion: 'v2', ...(spec.appVersion && { appVersion: spec.appVersion }) }));
  const chart = packChart(spec);
  const configRef = await pushBlob(reg, repo, config);
  const chartRef = await pushBlob(reg, repo, chart);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: HELM_MEDIA_TYPES.config, ...configRef },
      layers: [{ mediaType: HELM_MEDIA_TYPES.chart, ...chartRef }],
      annotations: { 'org.opencontainers.image.title': spec.name, 'org.opencontainers.image.version': spec.version },
    }),
  );
  const tag = spec.version.replaceAll('+', '_');
  const digest = await pushManifest(reg, repo, tag, manifest, 'application/vnd.oci.image.manifest.v1+json');
  return { reference: `${reg.host}/${repo}:${tag}`, digest };
}
