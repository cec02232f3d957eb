/**
 * CatalogSource (OLM v0) and ClusterCatalog (OLM v1) for a mirrored catalog (ref §6.2, §6.3).
 * Keys are written in alphabetical order at every level, as oc-mirror's YAML marshalling does.
 */
import { readFileSync } from 'node:fs';
import { Document, parse, Scalar } from 'yaml';
import { errorMessage } from '../errors.js';
import { splitDestination } from '../plan/naming.js';

export interface ResourceStamp {
  /** RFC 3339 UTC */
  createdAt: string;
  version: string;
}

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const RFC1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * `<prefix>-<last path component>-<suffix>` where the suffix is the first 12 characters of the
 * destination's tag mapped to `[a-z0-9-]` (the first 12 hex of its digest when it has no tag),
 * and every `.` then becomes `-`. Throws when the result is not a valid object name.
 */
export function catalogResourceName(prefix: 'cs' | 'cc', destination: string): string {
  const { path, suffix } = splitDestination(destination);
  const last = path[path.length - 1] ?? '';
  let tail: string;
  const at = suffix.indexOf('@');
  const tag = suffix.startsWith(':') ? suffix.slice(1, at >= 0 ? at : undefined) : '';
  if (tag) tail = tag.slice(0, 12).toLowerCase().replace(/[^a-z0-9-]/g, '-');
  else if (at >= 0) tail = suffix.slice(suffix.indexOf(':', at) + 1, suffix.indexOf(':', at) + 13);
  else tail = '0';
  const name = `${prefix}-${last}-${tail}`.replace(/\./g, '-');
  if (name.length > 63 || !(DNS1035.test(name) || RFC1123_SUBDOMAIN.test(name))) {
    throw new Error(`error creating catalog source name: "${name}" is not a valid object name (DNS-1035 label: lower-case letters, digits and -, at most 63)`);
  }
  return name;
}

export interface CatalogSourceTemplate {
  /** the template object, checked */
  object?: Record<string, unknown>;
  /** why the template cannot be used (the default object is written instead) */
  problem?: string;
}

/** Reads and checks a targetCatalogSourceTemplate file (ref §6.2). */
export function loadCatalogSourceTemplate(path: string): CatalogSourceTemplate {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return { problem: `${path}: ${errorMessage(err)}` };
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return { problem: `${path}: not a YAML object` };
  const o = doc as Record<string, unknown>;
  if (o.apiVersion !== 'operators.coreos.com/v1alpha1' || o.kind !== 'CatalogSource') {
    return { problem: `${path}: must be apiVersion operators.coreos.com/v1alpha1, kind CatalogSource` };
  }
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  if (typeof spec !== 'object' || Array.isArray(spec)) return { problem: `${path}: spec is not an object` };
  if (spec.sourceType !== undefined && spec.sourceType !== '' && spec.sourceType !== 'grpc') {
    return { problem: `${path}: spec.sourceType must be grpc, not "${String(spec.sourceType)}"` };
  }
  if (spec.configMap !== undefined) return { problem: `${path}: spec.configMap cannot be used with a catalog image` };
  return { object: o };
}

function annotations(stamp: ResourceStamp): Record<string, string> {
  return { createdAt: stamp.createdAt, createdBy: 'oc-mirror v2', 'oc-mirror_version': stamp.version };
}

export function renderCatalogSource(name: string, image: string, stamp: ResourceStamp, template?: Record<string, unknown>): string {
  const base = template ? structuredClone(template) : {};
  delete base.status;
  const metadata = { ...((base.metadata ?? {}) as Record<string, unknown>) };
  delete metadata.creationTimestamp;
  const object = {
    ...base,
    apiVersion: 'operators.coreos.com/v1alpha1',
    kind: 'CatalogSource',
    metadata: {
      ...metadata,
      annotations: { ...((metadata.annotations ?? {}) as Record<string, string>), ...annotations(stamp) },
      name,
      namespace: 'openshift-marketplace',
    },
    spec: { ...((base.spec ?? {}) as Record<string, unknown>), image, sourceType: 'grpc' },
  };
  return render(object);
}

export function renderClusterCatalog(name: string, image: string, stamp: ResourceStamp): string {
  return render({
    apiVersion: 'olm.operatorframework.io/v1',
    kind: 'ClusterCatalog',
    metadata: { annotations: annotations(stamp), name },
    spec: { priority: 0, source: { image: { ref: image }, type: 'Image' } },
  });
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sortKeys(o[k])]),
    );
  }
  return value;
}

function render(object: Record<string, unknown>): string {
  const doc = new Document(sortKeys(object));
  const createdAt = doc.getIn(['metadata', 'annotations', 'createdAt'], true);
  // A timestamp-looking string is quoted, as oc-mirror writes it (YAML 1.1 reads it as a time).
  if (createdAt instanceof Scalar) createdAt.type = Scalar.QUOTE_DOUBLE;
  return doc.toString({ indentSeq: false, lineWidth: 0 });
}
