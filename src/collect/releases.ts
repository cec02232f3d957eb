/**
 * The platform release collector (ref §8): the payloads release selection names, each with its
 * verified signature, its components (image-references) and, when asked, its KubeVirt container
 * disks; and the graph data image. Everything it learns from the network is kept under working-dir
 * (signatures, payload records), so disk to mirror needs none. Any failure stops the run: a
 * release with a missing piece cannot be installed or upgraded to.
 */
import { Limiter } from '../copy/limit.js';
import { CollectionError, errorMessage, NotFoundError, OcMirrorError } from '../errors.js';
import { isValidTag, parseReference, repositoryName, type ImageReference } from '../image/reference.js';
import type { ImageResult } from '../outputs/report.js';
import { destinationRepository } from '../plan/naming.js';
import type { CollectedImage } from '../plan/types.js';
import { renderSignatureConfigMap, renderUpdateService } from '../release/cluster-resources.js';
import { buildGraphImage, graphSources, GRAPH_REPOSITORY, GRAPH_TAG } from '../release/graph-image.js';
import { decodePayloadRecord, encodePayloadRecord, payloadRecordPath, readPayload, type PayloadContent } from '../release/payload.js';
import { coreosArchitecture } from '../release/release-manifests.js';
import { selectReleases, type SelectedRelease } from '../release/select.js';
import { ReleaseSignatures } from '../release/signatures.js';
import { VERSION } from '../version.js';
import type { ClusterResource, CollectContext, CollectorOutput } from './types.js';

/** Payload repository and component repository at the destination (ref §5.3). */
const PAYLOAD_REPOSITORY = 'openshift/release-images';
const COMPONENT_REPOSITORY = 'openshift/release';
/** `platform.release` given by tag: the digest mirror to disk resolved it to, for disk to mirror. */
const RESOLVED_TAGS = 'hold-release/release-tags.json';
const PAYLOADS_AT_ONCE = 4;

interface SignedRelease {
  digest: string;
  bytes: Buffer;
}

export async function collectReleases(ctx: CollectContext, env: NodeJS.ProcessEnv = process.env): Promise<CollectorOutput> {
  try {
    return await collect(ctx, env);
  } catch (err) {
    if (err instanceof CollectionError || !(err instanceof OcMirrorError)) throw err;
    // Release collection errors are fatal and carry the release exit-code bit (ref §12.1, §12.4).
    throw new CollectionError(errorMessage(err), 'release');
  }
}

async function collect(ctx: CollectContext, env: NodeJS.ProcessEnv): Promise<CollectorOutput> {
  const platform = ctx.config.mirror!.platform!;
  const where = `${ctx.configFile} mirror.platform`;
  const offline = ctx.mode === 'diskToMirror' || ctx.mode === 'delete';
  const selection = await selectReleases(ctx, platform, where, env);
  // Deleting needs the names only: signatures matter for what a cluster will verify.
  const signatures = ctx.options.ignoreReleaseSignature || ctx.mode === 'delete'
    ? undefined
    : new ReleaseSignatures({ http: ctx.http, metadata: ctx.metadata, offline, env });

  const unique = new Map<string, { release: SelectedRelease; payload: Payload }>();
  for (const release of selection.releases) {
    const payload = await resolvePayload(ctx, release, offline, where);
    if (!unique.has(payload.digest)) unique.set(payload.digest, { release, payload });
  }
  // A few payloads at a time: each is a signature GET and one layer read, mostly waiting.
  const limit = new Limiter(PAYLOADS_AT_ONCE);
  const collected = await Promise.all(
    [...unique.values()].map(({ release, payload }) => limit.run(() => collectRelease(ctx, release, payload, signatures, offline))),
  );
  const images = collected.flatMap((c) => c.images);
  const signed = collected.flatMap((c) => (c.signed ? [c.signed] : []));
  if (platform.graph) images.push(await graphImage(ctx, offline, env));

  return {
    images,
    clusterResources: (results) => releaseResources(results, signed, platform.graph === true),
  };
}

/** One payload: its signature (verified, saved), its content, its images. */
async function collectRelease(
  ctx: CollectContext,
  release: SelectedRelease,
  payload: Payload,
  signatures: ReleaseSignatures | undefined,
  offline: boolean,
): Promise<{ images: CollectedImage[]; signed?: SignedRelease }> {
  const what = `release ${release.version || release.payload}${release.version ? ` (${release.architecture})` : ''}`;
  const signature = await signatures?.get(payload.digest, what);
  const content = await payloadContent(ctx, payload, offline, what);
  const version = release.version || content.version;
  if (!version) throw new OcMirrorError(`${what}: the payload names no version (no release-metadata, no image-references name)`);
  const architecture = release.origin === 'release' ? content.architecture : release.architecture;
  const releaseTag = `${version}-${architecture === 'multi' ? 'multi' : coreosArchitecture(architecture)}`;
  if (!isValidTag(releaseTag)) throw new OcMirrorError(`${what}: "${releaseTag}" cannot be a tag`);
  if (signature) {
    await signatures!.save(releaseTag, payload.digest, signature.bytes);
    const signedTag = parseReference(signature.identity).tag;
    if (signedTag && signedTag !== releaseTag) ctx.log.warn(`${what}: its signature names it ${signature.identity}; it is mirrored as ${releaseTag}`);
  }
  const images = releaseImages(payload, releaseTag, content, ctx.config.mirror!.platform!.kubeVirtContainer === true, what);
  ctx.log.info(`${what}: ${content.components.length} components${signature ? ', signature verified' : ''}`);
  return { images, ...(signature && { signed: { digest: payload.digest, bytes: signature.bytes } }) };
}

interface Payload {
  /** `registry/repository` */
  repository: string;
  digest: string;
}

/**
 * The payload's digest: Cincinnati gives it; `platform.release` may name a tag, resolved at the
 * source (and remembered for disk to mirror, which has no source).
 */
async function resolvePayload(ctx: CollectContext, release: SelectedRelease, offline: boolean, where: string): Promise<Payload> {
  const ref = parseReference(release.payload);
  const repository = repositoryName(ref);
  if (ref.digest) return { repository, digest: ref.digest };
  const resolved = JSON.parse((await ctx.metadata.read(RESOLVED_TAGS))?.toString('utf8') ?? '{}') as Record<string, string>;
  if (offline) {
    const digest = resolved[release.payload];
    if (!digest) throw new OcMirrorError(`${where}.release: ${release.payload} is a tag, and mirror to disk saved no digest for it in working-dir/${RESOLVED_TAGS}`);
    return { repository, digest: parseReference(`${repository}@${digest}`).digest! };
  }
  let digest: string;
  try {
    digest = (await ctx.source(ref).getManifest(ref.tag!)).digest;
  } catch (err) {
    throw new OcMirrorError(`${where}.release: ${release.payload}: ${errorMessage(err)}`);
  }
  await ctx.metadata.write(RESOLVED_TAGS, `${JSON.stringify({ ...resolved, [release.payload]: digest }, null, 1)}\n`);
  return { repository, digest };
}

/**
 * Mirror to mirror and to disk read the payload at its source and save the record; disk to mirror
 * and delete read the record, or else the payload as mirror to disk stored it.
 */
async function payloadContent(ctx: CollectContext, payload: Payload, offline: boolean, what: string): Promise<PayloadContent> {
  const recordPath = payloadRecordPath(payload.digest);
  if (offline) {
    const record = await ctx.metadata.read(recordPath);
    if (record) return decodePayloadRecord(record, `working-dir/${recordPath}`);
    return readPayload(ctx.source(storeReference(ctx, PAYLOAD_REPOSITORY, payload.digest)), payload.digest, what);
  }
  const content = await readPayload(ctx.source(parseReference(`${payload.repository}@${payload.digest}`)), payload.digest, what);
  await ctx.metadata.write(recordPath, encodePayloadRecord(content));
  return content;
}

function storeReference(ctx: CollectContext, repository: string, digestOrTag: string): ImageReference {
  return parseReference(`${ctx.options.storeHost}/${repository}${digestOrTag.includes(':') ? '@' : ':'}${digestOrTag}`);
}

/** The payload, its components and its KubeVirt disks, named as ref §5.3 says. */
function releaseImages(payload: Payload, releaseTag: string, content: PayloadContent, kubeVirt: boolean, what: string): CollectedImage[] {
  const belongsTo = { release: releaseTag };
  const component = (name: string, image: string): CollectedImage => {
    const tag = `${releaseTag}-${name}`;
    if (!isValidTag(tag)) throw new OcMirrorError(`${what}: component ${name} would be tagged "${tag}", which is not a valid tag`);
    return { source: image, kind: 'ocpReleaseContent', targetRepo: COMPONENT_REPOSITORY, targetTag: tag, belongsTo };
  };
  const images: CollectedImage[] = [
    {
      source: `${payload.repository}:${releaseTag}@${payload.digest}`,
      kind: 'ocpRelease',
      targetRepo: PAYLOAD_REPOSITORY,
      targetTag: releaseTag,
      belongsTo,
    },
    ...content.components.map((c) => component(c.name, c.image)),
  ];
  if (kubeVirt) {
    const wanted = content.architecture === 'multi' ? ['x86_64', 's390x'] : [coreosArchitecture(content.architecture)];
    const disks = content.kubeVirt.filter((k) => wanted.includes(k.architecture));
    if (disks.length === 0) throw new OcMirrorError(`${what}: could not find kubevirt image in this release (kubeVirtContainer: true)`);
    for (const d of disks) images.push(component(disks.length > 1 ? `kube-virt-container-${d.architecture}` : 'kube-virt-container', d.image));
  }
  return images;
}

/**
 * The graph data image, built into the local store. Disk to mirror finds it in the archives. In an
 * enclave (UPDATE_URL_OVERRIDE) oc-mirror builds nothing and reuses the store's image: so do we,
 * unless OC_MIRROR_GRAPH_DATA_URL names graph data to build from.
 */
async function graphImage(ctx: CollectContext, offline: boolean, env: NodeJS.ProcessEnv): Promise<CollectedImage> {
  const ref = storeReference(ctx, GRAPH_REPOSITORY, GRAPH_TAG);
  const image: CollectedImage = {
    source: `${ref.registry}/${ref.repository}:${GRAPH_TAG}`,
    kind: 'cincinnatiGraph',
    targetRepo: GRAPH_REPOSITORY,
    targetTag: GRAPH_TAG,
    pullFrom: `${ref.registry}/${ref.repository}:${GRAPH_TAG}`,
  };
  if (ctx.mode === 'delete') return image;
  if (offline) {
    try {
      await ctx.source(ref).getManifest(GRAPH_TAG);
    } catch (err) {
      if (err instanceof NotFoundError) throw new OcMirrorError(`mirror.platform.graph: the graph image is not in the archives (${GRAPH_REPOSITORY}:${GRAPH_TAG}): mirror to disk with graph: true first`);
      throw err;
    }
    return image;
  }
  const store = ctx.store;
  if (!store) throw new OcMirrorError('mirror.platform.graph: no local store to build the graph image in');
  if (env.UPDATE_URL_OVERRIDE && !env.OC_MIRROR_GRAPH_DATA_URL) {
    if (!(await store.repository(GRAPH_REPOSITORY).manifestDigest(GRAPH_TAG))) {
      throw new OcMirrorError(
        `mirror.platform.graph: UPDATE_URL_OVERRIDE is set (an enclave), so no graph data is downloaded, and the local cache has no graph image (${GRAPH_REPOSITORY}:${GRAPH_TAG}); set OC_MIRROR_GRAPH_DATA_URL to a graph-data tarball to build one`,
      );
    }
    ctx.log.info(`UPDATE_URL_OVERRIDE is set: reusing the graph image of the local cache`);
    return image;
  }
  try {
    await buildGraphImage({ http: ctx.http, source: (r) => ctx.source(r), store, env, log: ctx.log });
  } catch (err) {
    const { dataUrl, baseImage } = graphSources(env);
    throw new OcMirrorError(`mirror.platform.graph: building the graph image (graph data ${dataUrl}, base ${baseImage}): ${errorMessage(err)}`);
  }
  return image;
}

/** The signature ConfigMap for the payloads copied in this run, and the UpdateService when the graph image was. */
function releaseResources(results: readonly ImageResult[], signed: readonly SignedRelease[], graph: boolean): ClusterResource[] {
  const opts = { createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), version: VERSION };
  const copied = results.filter((r) => r.status === 'mirrored' || r.status === 'present');
  const out: ClusterResource[] = [];
  const bytesOf = new Map(signed.map((s) => [s.digest, s.bytes]));
  const entries = copied
    .filter((r) => r.task.kind === 'ocpRelease')
    .map((r) => parseReference(r.task.source).digest!)
    .filter((d) => bytesOf.has(d))
    .map((digest) => ({ digest, bytes: bytesOf.get(digest)! }));
  if (entries.length > 0) {
    const cm = renderSignatureConfigMap(entries, opts);
    out.push({ name: 'signature-configmap.json', content: cm.json }, { name: 'signature-configmap.yaml', content: cm.yaml });
  }
  const graphTask = graph ? copied.find((r) => r.task.kind === 'cincinnatiGraph')?.task : undefined;
  if (graphTask) {
    const firstRelease = results.find((r) => r.task.kind === 'ocpRelease')?.task;
    const releases = firstRelease
      ? destinationRepository(firstRelease.destination)
      : destinationRepository(graphTask.destination).replace(/graph-image$/, 'release-images');
    out.push({ name: 'updateService.yaml', content: renderUpdateService(graphTask.destination, releases, opts) });
  }
  return out;
}
