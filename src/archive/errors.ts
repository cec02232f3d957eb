import { OcMirrorError } from '../errors.js';

/**
 * An archive we cannot write or will not read: malformed, truncated or unsafe tar content, an
 * archive set that does not exist, or an archiveSize too small for strict mode. The message names
 * the archive and, when there is one, the entry at fault.
 */
export class ArchiveError extends OcMirrorError {
  override name = 'ArchiveError';
}
