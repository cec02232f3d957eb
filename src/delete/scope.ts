import { parseRegistryLocation, type RegistryLocation } from '../image/reference.js';
import { formatRegistryLocation } from '../plan/naming.js';
import { DeleteListError, type ListedItem } from './list.js';

/**
 * Whether an image sits under the destination (ref §11.2), compared by path components so that
 * `host/del-x/a` is not under `host/del`: same host, the prefix's components first, and at
 * least one more (mirroring never writes to the prefix itself).
 */
export function isUnder(item: Pick<ListedItem, 'ref'>, destination: RegistryLocation): boolean {
  if (item.ref.registry.toLowerCase() !== destination.registry.toLowerCase()) return false;
  const prefix = destination.prefix.split('/').filter(Boolean);
  const path = item.ref.repository.split('/');
  return path.length > prefix.length && prefix.every((c, i) => path[i] === c);
}

/** Refuses the whole list, before anything is deleted, when one item lies outside the destination. */
export function checkUnderDestination(items: readonly ListedItem[], destination: string, file: string): RegistryLocation {
  const location = parseRegistryLocation(destination);
  const outside = items.filter((i) => !isUnder(i, location));
  if (outside.length) {
    const first = outside[0]!;
    const more = outside.length > 1 ? ` (and ${outside.length - 1} more item${outside.length > 2 ? 's' : ''})` : '';
    throw new DeleteListError(
      `${file} ${first.path}.imageReference: ${first.imageReference} is not under the destination ${formatRegistryLocation(location)}${more}; nothing was deleted`,
    );
  }
  return location;
}
