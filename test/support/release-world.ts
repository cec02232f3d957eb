/**
 * A small OpenShift release world for the release tests, built from scratch on loopback:
 * - component images (`ocp/art@sha256:…`, one tiny layer each), shared between releases;
 * - release payloads (`ocp/release`): a base layer and a layer holding `release-manifests/`
 *   (image-references, release-metadata, the CoreOS boot images ConfigMap), optionally under an
 *   older layer with stale manifests; `multi` payloads are indexes of two such images;
 * - an OpenPGP key generated here that signs the payload digests (atomic container signatures),
 *   plus a second, untrusted key, served as a signature store;
 * - a Cincinnati server (cincinnati-server.ts) whose channels list the payloads;
 * - a graph-data tarball (served) and a base image for the graph image.
 * `env` points the tool at all of it.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import type { Hookable } from './cleanup.js';
import { tempDir } from './cleanup.js';
import { startCincinnatiServer, type CincinnatiRelease, type CincinnatiServer } from './cincinnati-server.js';
import { MediaTypes, pushBlob, pushManifest } from './images.js';
import { LOOPBACK } from './ports.js';
import type { TestRegistry } from './registry.js';
import { ustarHeader } from './tar.js';

export const PAYLOAD_REPO = 'ocp/release';
export const COMPONENT_REPO = 'ocp/art';
export const BASE_IMAGE_REPO = 'ubi9/ubi';

export interface WorldReleaseSpec {
  version: string;
  /** Cincinnati architecture: amd64, arm64, or multi (an index of amd64 and arm64 payloads) */
  arch: 'amd64' | 'arm64' | 'multi';
  /** component name → component key (the same key is the same image in every release); `missing:<x>` is never pushed */
  components: Record<string, string>;
  /** component key of the x86_64 KubeVirt container disk named in the boot images */
  kubeVirt?: string;
  /** default `valid`; `untrusted`: signed by a key the tool is not given; `none`: the store has none */
  signature?: 'valid' | 'untrusted' | 'none';
  /** an older layer with an image-references naming other components, which the newer layer replaces */
  stale?: boolean;
  channels: string[];
}

export interface WorldPayload {
  version: string;
  arch: string;
  digest: string;
  /** host/ocp/release@digest */
  ref: string;
  /** the signature file served for it, if any */
  signature?: Buffer;
}

export interface ReleaseWorld {
  /** `<version>-<arch>` (Cincinnati arch) → payload */
  payloads: Map<string, WorldPayload>;
  /** component key → digest */
  components: Map<string, string>;
  cincinnati: CincinnatiServer;
  graphData: Buffer;
  /** the graph base image's (linux/amd64 image) manifest digest */
  baseImageDigest: string;
  env: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// tar + gzip of small files

interface FileEntry {
  name: string;
  data?: Buffer;
  /** '0' file (default), '5' directory */
  type?: '0' | '5';
}

function header(name: string, size: number, type: string): Buffer {
  return ustarHeader({ name, size, type });
}

export function tarOf(entries: FileEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    parts.push(header(e.name, data.length, e.type ?? '0'), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** Pushes an image whose layers are gzip tars of the given files; returns its manifest digest and bytes. */
export async function pushFilesImage(
  reg: TestRegistry,
  repo: string,
  tag: string | null,
  layers: FileEntry[][],
  config: { architecture: string; extra?: Record<string, unknown> },
): Promise<{ digest: string; manifest: Buffer; size: number }> {
  const descriptors = [];
  const diffIds = [];
  for (const files of layers) {
    const tar = tarOf(files);
    const gz = gzipSync(tar);
    await pushBlob(reg, repo, gz);
    descriptors.push({ mediaType: MediaTypes.ociLayerGzip, digest: sha256(gz), size: gz.length });
    diffIds.push(sha256(tar));
  }
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: config.architecture,
      os: 'linux',
      created: '2024-01-01T00:00:00Z',
      config: { Labels: { seed: `${repo}:${tag ?? ''}:${config.architecture}` }, ...config.extra },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: diffIds.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'test' })),
    }),
  );
  await pushBlob(reg, repo, configBytes);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: sha256(configBytes), size: configBytes.length },
      layers: descriptors,
    }),
  );
  const digest = await pushManifest(reg, repo, tag ?? sha256(manifest), manifest, MediaTypes.ociManifest);
  return { digest, manifest, size: manifest.length };
}

// ---------------------------------------------------------------------------------------------
// the world

/** An atomic container signature of `digest` for `identity`, signed (binary OpenPGP message). */
export async function signRelease(key: openpgp.PrivateKey, digest: string, identity: string): Promise<Buffer> {
  const payload = JSON.stringify({
    critical: { identity: { 'docker-reference': identity }, image: { 'docker-manifest-digest': digest }, type: 'atomic container signature' },
    optional: { creator: 'release-world test signer' },
  });
  const message = await openpgp.createMessage({ binary: Buffer.from(payload) });
  return Buffer.from((await openpgp.sign({ message, signingKeys: key, format: 'binary' })) as Uint8Array);
}

export async function generateKey(name: string): Promise<{ privateKey: openpgp.PrivateKey; publicArmored: string }> {
  const { privateKey, publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name }], format: 'armored' });
  return { privateKey: await openpgp.readPrivateKey({ armoredKey: privateKey }), publicArmored: publicKey };
}

function archTag(arch: string): string {
  return arch === 'amd64' ? 'x86_64' : arch === 'arm64' ? 'aarch64' : arch;
}

/** The graph-data tarball: what api.openshift.com/api/upgrades_info/graph-data serves, in small. */
export function graphDataTarball(): Buffer {
  return gzipSync(
    tarOf([
      { name: 'channels/', type: '5' },
      { name: 'channels/stable-4.18.yaml', data: Buffer.from('name: stable-4.18\nversions:\n- 4.18.1\n- 4.18.2\n- 4.18.3\n') },
      { name: 'blocked-edges/', type: '5' },
      { name: 'blocked-edges/4.18.2-bug.yaml', data: Buffer.from('to: 4.18.2\nfrom: 4\\.18\\.1\n') },
      { name: 'version', data: Buffer.from('1.2.0\n') },
    ]),
  );
}

export async function buildReleaseWorld(reg: TestRegistry, specs: WorldReleaseSpec[], t: Hookable): Promise<ReleaseWorld> {
  const dir = tempDir(t, 'release-world');
  const components = new Map<string, string>();
  const componentDigest = async (key: string): Promise<string> => {
    let digest = components.get(key);
    if (!digest) {
      if (key.startsWith('missing:')) digest = sha256(Buffer.from(key));
      else digest = (await pushFilesImage(reg, COMPONENT_REPO, null, [[{ name: `usr/bin/${key.replace(/\W/g, '-')}`, data: Buffer.from(`component ${key}\n`) }]], { architecture: 'amd64' })).digest;
      components.set(key, digest);
    }
    return digest;
  };

  const trusted = await generateKey('release-world signer');
  const untrusted = await generateKey('someone else');
  const keyFile = join(dir, 'release-key.asc');
  writeFileSync(keyFile, trusted.publicArmored);

  const baseLayer: FileEntry[] = [{ name: 'usr/', type: '5' }, { name: 'usr/bin/', type: '5' }, { name: 'usr/bin/cluster-version-operator', data: Buffer.from('cvo\n') }];
  const payloads = new Map<string, WorldPayload>();
  const signatures = new Map<string, Buffer>();
  const channels: Record<string, Record<string, CincinnatiRelease[]>> = {};
  for (const spec of specs) {
    const tags = [];
    for (const [name, key] of Object.entries(spec.components)) {
      tags.push({ name, from: { kind: 'DockerImage', name: `${reg.host}/${COMPONENT_REPO}@${await componentDigest(key)}` } });
    }
    const imageReferences = JSON.stringify({ kind: 'ImageStream', apiVersion: 'image.openshift.io/v1', metadata: { name: spec.version }, spec: { tags } });
    const manifestsLayer: FileEntry[] = [
      { name: 'release-manifests/', type: '5' },
      { name: 'release-manifests/0000_00_cluster-version-operator_01_adminack_configmap.yaml', data: Buffer.from('kind: ConfigMap\n') },
      { name: 'release-manifests/image-references', data: Buffer.from(imageReferences) },
      { name: 'release-manifests/release-metadata', data: Buffer.from(JSON.stringify({ kind: 'cincinnati-metadata-v0', version: spec.version })) },
    ];
    if (spec.kubeVirt) {
      const stream = JSON.stringify({
        architectures: { x86_64: { images: { kubevirt: { release: '418.94', image: 'x', 'digest-ref': `${reg.host}/${COMPONENT_REPO}@${await componentDigest(spec.kubeVirt)}` } } } },
      });
      manifestsLayer.push({
        name: 'release-manifests/0000_50_installer_coreos-bootimages.yaml',
        data: Buffer.from(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: coreos-bootimages\ndata:\n  stream: '${stream}'\n`),
      });
    }
    const layers: FileEntry[][] = [baseLayer];
    if (spec.stale) {
      const staleRefs = JSON.stringify({
        kind: 'ImageStream',
        metadata: { name: spec.version },
        spec: { tags: [{ name: 'stale', from: { kind: 'DockerImage', name: `${reg.host}/${COMPONENT_REPO}@${sha256(Buffer.from('stale'))}` } }] },
      });
      layers.push([{ name: 'release-manifests/', type: '5' }, { name: 'release-manifests/image-references', data: Buffer.from(staleRefs) }]);
    }
    layers.push(manifestsLayer);
    const tag = `${spec.version}-${archTag(spec.arch)}`;
    let digest: string;
    if (spec.arch === 'multi') {
      const children = [];
      for (const arch of ['amd64', 'arm64']) {
        const child = await pushFilesImage(reg, PAYLOAD_REPO, null, layers, { architecture: arch });
        children.push({ mediaType: MediaTypes.ociManifest, digest: child.digest, size: child.size, platform: { os: 'linux', architecture: arch } });
      }
      const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: children }));
      digest = await pushManifest(reg, PAYLOAD_REPO, tag, index, MediaTypes.ociIndex);
    } else {
      digest = (await pushFilesImage(reg, PAYLOAD_REPO, tag, layers, { architecture: spec.arch })).digest;
    }
    const identity = `quay.io/openshift-release-dev/ocp-release:${tag}`;
    const signature = spec.signature === 'none' ? undefined : await signRelease(spec.signature === 'untrusted' ? untrusted.privateKey : trusted.privateKey, digest, identity);
    if (signature) signatures.set(digest, signature);
    const ref = `${reg.host}/${PAYLOAD_REPO}@${digest}`;
    payloads.set(`${spec.version}-${spec.arch}`, { version: spec.version, arch: spec.arch, digest, ref, ...(signature && { signature }) });
    for (const ch of spec.channels) ((channels[ch] ??= {})[spec.arch] ??= []).push({ version: spec.version, payload: ref });
  }

  const cincinnati = await startCincinnatiServer(
    {
      channels,
      edges: [
        ['4.18.1', '4.18.2'],
        ['4.18.2', '4.18.3'],
        ['4.18.1', '4.18.3'],
      ],
    },
    t,
  );

  const graphData = graphDataTarball();
  const content = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://content');
    const sig = /^\/signatures\/sha256=([a-f0-9]{64})\/signature-1$/.exec(url.pathname);
    const body = sig ? signatures.get(`sha256:${sig[1]}`) : url.pathname === '/graph-data' ? graphData : undefined;
    res.writeHead(body ? 200 : 404);
    res.end(body ?? 'not found');
  });
  await new Promise<void>((resolve) => content.listen({ host: LOOPBACK, port: 0 }, () => resolve()));
  t.after(() => new Promise<void>((resolve) => content.close(() => resolve())));
  const port = (content.address() as { port: number }).port;

  const base = await pushFilesImage(reg, BASE_IMAGE_REPO, 'latest', [[{ name: 'bin/', type: '5' }, { name: 'bin/bash', data: Buffer.from('#!bash\n') }]], {
    architecture: 'amd64',
  });

  return {
    payloads,
    components,
    cincinnati,
    graphData,
    baseImageDigest: base.digest,
    env: {
      UPDATE_URL_OVERRIDE: cincinnati.url,
      OCP_SIGNATURE_URL: `http://${LOOPBACK}:${port}/signatures`,
      OCP_SIGNATURE_VERIFICATION_PK: keyFile,
      OC_MIRROR_GRAPH_DATA_URL: `http://${LOOPBACK}:${port}/graph-data`,
      OC_MIRROR_GRAPH_BASE_IMAGE: `${reg.host}/${BASE_IMAGE_REPO}:latest`,
    },
  };
}
