/**
 * The cluster resources of platform releases: the release signature ConfigMap (ref §6.5) and the
 * UpdateService (ref §6.4). Keys are written in the order Go's marshallers write them (JSON:
 * struct order; YAML: alphabetical), so files diff cleanly against oc-mirror's.
 */
import { Document, Scalar } from 'yaml';

export interface ResourceOptions {
  /** RFC 3339 UTC, e.g. `2026-01-01T10:00:00Z` */
  createdAt: string;
  /** written as the `oc-mirror_version` annotation */
  version: string;
}

export interface SignatureEntry {
  /** payload digest, `sha256:<hex>` */
  digest: string;
  /** the signature file's bytes */
  bytes: Buffer;
}

function annotations(opts: ResourceOptions): Record<string, string> {
  return { createdAt: opts.createdAt, createdBy: 'oc-mirror v2', 'oc-mirror_version': opts.version };
}

function toYaml(value: unknown): string {
  const doc = new Document(value);
  // A timestamp-looking string is quoted, as Go's YAML marshaller does.
  const createdAt = doc.getIn(['metadata', 'annotations', 'createdAt'], true);
  if (createdAt instanceof Scalar) createdAt.type = Scalar.QUOTE_DOUBLE;
  return doc.toString({ indentSeq: false, lineWidth: 0 });
}

/**
 * `mirrored-release-signatures` in `openshift-config-managed`, labelled for the cluster version
 * operator, one `binaryData` key per signature: `sha256-<hex>-<n>`, n counting 1, 2, … across the
 * map as oc-mirror numbers them (the operator accepts any key that starts with the digest).
 * Entries in the order given; a digest given twice is kept once.
 */
export function renderSignatureConfigMap(entries: readonly SignatureEntry[], opts: ResourceOptions): { json: string; yaml: string } {
  const binaryData: Record<string, string> = {};
  const seen = new Set<string>();
  let n = 0;
  for (const e of entries) {
    if (seen.has(e.digest)) continue;
    seen.add(e.digest);
    binaryData[`${e.digest.replace(':', '-')}-${++n}`] = e.bytes.toString('base64');
  }
  const metadata = {
    name: 'mirrored-release-signatures',
    namespace: 'openshift-config-managed',
    labels: { 'release.openshift.io/verification-signatures': '' },
    annotations: annotations(opts),
  };
  const json = JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata, binaryData: sortedObject(binaryData) });
  const yaml = toYaml({
    apiVersion: 'v1',
    binaryData: sortedObject(binaryData),
    kind: 'ConfigMap',
    metadata: { annotations: metadata.annotations, labels: metadata.labels, name: metadata.name, namespace: metadata.namespace },
  });
  return { json, yaml };
}

/** `update-service-oc-mirror`: the graph data image and the repository of the release payloads at the destination. */
export function renderUpdateService(graphDataImage: string, releases: string, opts: ResourceOptions): string {
  return toYaml({
    apiVersion: 'updateservice.operator.openshift.io/v1',
    kind: 'UpdateService',
    metadata: { annotations: annotations(opts), name: 'update-service-oc-mirror', namespace: 'openshift-update-service' },
    spec: { graphDataImage, releases, replicas: 2 },
  });
}

function sortedObject(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
