/**
 * The graph data image (ref §8.6) an OpenShift Update Service in the disconnected network serves
 * its upgrade graph from: a base image plus one layer with the Cincinnati graph-data tarball's
 * content under /var/lib/cincinnati-graph-data/, and a command that copies it where the service
 * reads it. Built into the local store: the base through `source` (so registries.conf applies),
 * the new layer as a deterministic tar (fixed times, owners and modes: the same graph data on the
 * same base gives the same digest).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline as pipelineCb, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { TarWriter } from '../archive/tar.js';
import { errorMessage, OcMirrorError } from '../errors.js';
import type { HttpClient } from '../http/client.js';
import { redact } from '../http/client.js';
import { digestOf, VerifyingStream } from '../image/digest.js';
import { MediaType, viewManifest, type Descriptor, type RawManifest } from '../image/manifest.js';
import { parseReference, pullReference, type ImageReference } from '../image/reference.js';
import type { ImageSource } from '../image/transport.js';
import type { Logger } from '../log.js';
import type { LocalStore } from '../store/store.js';
import { readSmallBlob } from './image-files.js';
import { scanTar } from '../archive/tar-stream.js';

export const GRAPH_DATA_URL = 'https://api.openshift.com/api/upgrades_info/graph-data';
export const GRAPH_BASE_IMAGE = 'registry.access.redhat.com/ubi9/ubi:latest';
export const GRAPH_REPOSITORY = 'openshift/graph-image';
export const GRAPH_TAG = 'latest';
const GRAPH_DATA_DIR = 'var/lib/cincinnati-graph-data';
const GRAPH_CMD = ['/bin/bash', '-c', 'exec cp -rp /var/lib/cincinnati-graph-data/* /var/lib/cincinnati/graph-data'];
/** Graph data files are YAML of a few kilobytes. */
const MAX_GRAPH_FILE_BYTES = 64 * 1024 * 1024;

export interface GraphImageOptions {
  http: HttpClient;
  source(ref: ImageReference): ImageSource;
  store: LocalStore;
  /** `OC_MIRROR_GRAPH_DATA_URL`, `OC_MIRROR_GRAPH_BASE_IMAGE` */
  env: NodeJS.ProcessEnv;
  log: Logger;
}

/** Where the graph data and the base image come from: the public ones unless the environment says otherwise. */
export function graphSources(env: NodeJS.ProcessEnv): { dataUrl: string; baseImage: string } {
  return { dataUrl: env.OC_MIRROR_GRAPH_DATA_URL || GRAPH_DATA_URL, baseImage: env.OC_MIRROR_GRAPH_BASE_IMAGE || GRAPH_BASE_IMAGE };
}

/** Builds the graph image into the store as `openshift/graph-image:latest`; returns its manifest digest. */
export async function buildGraphImage(opts: GraphImageOptions): Promise<string> {
  const { dataUrl, baseImage } = graphSources(opts.env);
  const target = opts.store.repository(GRAPH_REPOSITORY);
  const baseRef = parseReference(baseImage);
  const src = opts.source(baseRef);
  const what = `graph image base ${baseImage}`;
  const base = await platformImage(src, await src.getManifest(pullReference(baseRef)), what);
  const view = viewManifest(base, what);
  if (view.kind !== 'image' || !view.config) throw new OcMirrorError(`${what}: not an image with a config`);
  for (const layer of view.layers) {
    if (await target.hasBlob(layer)) continue;
    const verifier = new VerifyingStream(layer.digest, layer.size, `${what} layer ${layer.digest}`);
    const body = await src.getBlob(layer);
    try {
      await Promise.all([pipeline(body, verifier), target.putBlob(layer, verifier)]);
    } catch (err) {
      body.destroy();
      verifier.destroy();
      throw err;
    }
  }
  const baseConfig = await readSmallBlob(src, view.config, what);

  const dir = await mkdtemp(join(tmpdir(), 'oc-mirror-graph-'));
  try {
    const layer = await graphDataLayer(opts.http, dataUrl, dir, isDockerManifest(base) ? DOCKER_LAYER : OCI_LAYER);
    await target.putBlob(layer.descriptor, verifiedFile(layer.path, layer.descriptor));
    const config = graphConfig(baseConfig, layer.diffId, what);
    const configDescriptor: Descriptor = { mediaType: view.config.mediaType, digest: digestOf(config), size: config.length };
    await target.putBlob(configDescriptor, verifiedBytes(config, configDescriptor));
    const manifest = graphManifest(base, configDescriptor, layer.descriptor);
    await target.putManifest(manifest, GRAPH_TAG);
    opts.log.info(`graph image built from ${redact(dataUrl)} on ${baseImage}: ${opts.store.host}/${GRAPH_REPOSITORY}:${GRAPH_TAG}@${manifest.digest}`);
    return manifest.digest;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

function isDockerManifest(m: RawManifest): boolean {
  return m.mediaType === MediaType.DockerManifest;
}

/** The linux/amd64 image of an index (the platform oc-mirror builds on), or the image itself. */
async function platformImage(src: ImageSource, top: RawManifest, what: string): Promise<RawManifest> {
  const view = viewManifest(top, what);
  if (view.kind === 'image') return top;
  const child = view.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64');
  if (!child) throw new OcMirrorError(`${what}: the index has no linux/amd64 image`);
  return src.getManifest(child.digest);
}

/**
 * Downloads the graph-data tarball (gzip tar) and writes its files and directories under
 * var/lib/cincinnati-graph-data/ into a new layer: a tar with fixed time, owner and modes, then
 * gzip. Returns the layer file, its descriptor and its diff_id.
 */
async function graphDataLayer(
  http: HttpClient,
  url: string,
  dir: string,
  mediaType: string,
): Promise<{ path: string; descriptor: Descriptor; diffId: string }> {
  const tarPath = join(dir, 'layer.tar');
  const file = await open(tarPath, 'w');
  const writer = new TarWriter(file, new Date(0));
  const what = `graph data ${redact(url)}`;
  try {
    for (const d of ['var', 'var/lib', GRAPH_DATA_DIR]) await writer.addDirectory(d);
    let body: Readable;
    try {
      body = await http.getStream(url);
    } catch (err) {
      throw new OcMirrorError(`cannot download the graph data: ${errorMessage(err)} (set OC_MIRROR_GRAPH_DATA_URL to a reachable copy of the graph-data tarball)`);
    }
    const gunzip = createGunzip();
    const piped = pipeline(body, gunzip).catch((err: unknown) => {
      throw new OcMirrorError(`${what}: ${errorMessage(err)}`);
    });
    await scanTar(
      gunzip,
      what,
      (entry) => {
        if (entry.name === '' || entry.name.split('/').includes('..')) return 'skip';
        if (entry.type === 'file') return { read: MAX_GRAPH_FILE_BYTES };
        if (entry.type === 'directory') return writer.addDirectory(`${GRAPH_DATA_DIR}/${entry.name}`).then(() => 'skip' as const);
        return 'skip';
      },
      async (entry, data) => {
        await writer.addFile(`${GRAPH_DATA_DIR}/${entry.name}`, data.length, Readable.from([data]));
      },
    );
    await piped;
    await writer.finish();
  } finally {
    await file.close();
  }

  const gzPath = join(dir, 'layer.tar.gz');
  const tarHash = createHash('sha256');
  const gzHash = createHash('sha256');
  await pipeline(
    createReadStream(tarPath),
    new Transform({
      transform(chunk: Buffer, _enc, cb) {
        tarHash.update(chunk);
        cb(null, chunk);
      },
    }),
    createGzip(),
    new Transform({
      transform(chunk: Buffer, _enc, cb) {
        gzHash.update(chunk);
        cb(null, chunk);
      },
    }),
    createWriteStream(gzPath),
  );
  const size = (await stat(gzPath)).size;
  return { path: gzPath, descriptor: { mediaType, digest: `sha256:${gzHash.digest('hex')}`, size }, diffId: `sha256:${tarHash.digest('hex')}` };
}

function verifiedFile(path: string, desc: Descriptor): VerifyingStream {
  const verifier = new VerifyingStream(desc.digest, desc.size, `graph data layer ${path}`);
  pipelineCb(createReadStream(path), verifier, () => {});
  return verifier;
}

function verifiedBytes(bytes: Buffer, desc: Descriptor): VerifyingStream {
  const verifier = new VerifyingStream(desc.digest, desc.size, 'graph image config');
  Readable.from([bytes]).pipe(verifier);
  return verifier;
}

/** The base config with the graph data layer appended and the command that copies the data. */
function graphConfig(baseConfig: Buffer, diffId: string, what: string): Buffer {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(baseConfig.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new OcMirrorError(`${what}: the image config is not JSON`);
  }
  const rootfs = (config.rootfs ?? {}) as { type?: string; diff_ids?: string[] };
  const history = Array.isArray(config.history) ? config.history : [];
  const created = typeof config.created === 'string' ? config.created : '1970-01-01T00:00:00Z';
  return Buffer.from(
    JSON.stringify({
      ...config,
      config: { ...((config.config ?? {}) as Record<string, unknown>), Cmd: GRAPH_CMD },
      rootfs: { type: rootfs.type ?? 'layers', diff_ids: [...(rootfs.diff_ids ?? []), diffId] },
      // The base's own time: no clock in the image, so a rebuild from the same inputs is identical.
      history: [...history, { created, created_by: 'oc-mirror: Cincinnati graph data in /var/lib/cincinnati-graph-data' }],
    }),
  );
}

function graphManifest(base: RawManifest, config: Descriptor, layer: Descriptor): RawManifest {
  const doc = JSON.parse(base.bytes.toString('utf8')) as { layers: Descriptor[]; config: Descriptor; annotations?: unknown };
  const bytes = Buffer.from(JSON.stringify({ ...doc, config, layers: [...doc.layers, layer] }));
  return { bytes, mediaType: base.mediaType, digest: digestOf(bytes) };
}
