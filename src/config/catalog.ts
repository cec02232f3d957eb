import { formatReference, parseReference } from '../image/reference.js';
import type { Operator } from './types.js';

/**
 * The name a catalog entry is known by once targetCatalog/targetTag are applied (oc-mirror's
 * `GetUniqueName`): two entries with the same unique name would land on the same destination,
 * which is why a configuration may not hold two. The reference is normalised first, so
 * `docker://quay.io/x:1` and `quay.io/x:1` are the same catalog. A targetTag replaces both the
 * tag and the digest, as it does at the destination.
 */
export function catalogUniqueName(op: Pick<Operator, 'catalog' | 'targetCatalog' | 'targetTag'>): string {
  if (op.catalog.startsWith('oci:')) {
    // A local layout has no registry path to replace; keep every part that tells two entries apart.
    return `${op.catalog}${op.targetCatalog ? ` as ${op.targetCatalog}` : ''}${op.targetTag ? `:${op.targetTag}` : ''}`;
  }
  const ref = parseReference(op.catalog);
  const repository = op.targetCatalog || ref.repository;
  if (op.targetTag) return formatReference({ registry: ref.registry, repository, tag: op.targetTag });
  return formatReference({ ...ref, repository });
}
