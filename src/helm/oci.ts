/**
 * Charts stored in registries (`oci://` repositories): an OCI manifest whose config is Helm's
 * and whose layer is the chart archive.
 */
import { pipeline } from 'node:stream/promises';
import type { ImageReference } from '../image/reference.js';
import { formatReference } from '../image/reference.js';
import { VerifyingStream } from '../image/digest.js';
import { viewManifest } from '../image/manifest.js';
import type { ImageSource } from '../image/transport.js';
import { errorMessage } from '../errors.js';
import { HelmError } from './errors.js';

export const HELM_CONFIG_MEDIA_TYPE = 'application/vnd.cncf.helm.config.v1+json';
export const HELM_CHART_MEDIA_TYPE = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
/** what Helm 3.0–3.6 wrote before the media type was registered */
const LEGACY_CHART_MEDIA_TYPE = 'application/tar+gzip';
/** a chart archive is small: Helm refuses more than 100 MiB even decompressed */
const MAX_CHART_ARCHIVE_BYTES = 100 * 1024 * 1024;

/** The reference of chart `name` version `version` in the OCI repository `oci://host/path` (`+` is `_` in tags, as Helm pushes it). */
export function ociChartReference(repoUrl: string, name: string, version: string): string {
  return `${repoUrl.replace(/^oci:\/\//, '').replace(/\/+$/, '')}/${name}:${version.replaceAll('+', '_')}`;
}

/** The chart archive of an OCI chart artifact, its bytes verified against the layer digest. */
export async function pullOciChart(source: ImageSource, ref: ImageReference): Promise<Buffer> {
  const what = formatReference(ref);
  try {
    const manifest = await source.getManifest(ref.digest ?? ref.tag!);
    const view = viewManifest(manifest, what);
    if (view.kind !== 'image' || view.config?.mediaType !== HELM_CONFIG_MEDIA_TYPE) {
      throw new HelmError(`${what} is not a Helm chart (its config media type is not ${HELM_CONFIG_MEDIA_TYPE})`);
    }
    const layer = view.layers.find((l) => l.mediaType === HELM_CHART_MEDIA_TYPE || l.mediaType === LEGACY_CHART_MEDIA_TYPE);
    if (!layer) throw new HelmError(`${what} has no chart layer (${HELM_CHART_MEDIA_TYPE})`);
    if (layer.size > MAX_CHART_ARCHIVE_BYTES) throw new HelmError(`${what}: the chart layer is ${layer.size} bytes, more than a chart may be`);
    const chunks: Buffer[] = [];
    await pipeline(await source.getBlob(layer), new VerifyingStream(layer.digest, layer.size, `${what} chart layer`), async (s: AsyncIterable<Buffer>) => {
      for await (const c of s) chunks.push(c);
    });
    return Buffer.concat(chunks);
  } catch (err) {
    if (err instanceof HelmError) throw err;
    throw new HelmError(`${what}: ${errorMessage(err)}`);
  }
}
