import type { FlagSpec } from '../cli/flags.js';
import { COMMON_FLAGS, MIRROR_FLAGS } from '../cli/mirror-command.js';

/**
 * Flags the actions take that the CLI does not have yet. They belong in src/cli (and their values
 * in MirrorOptions); until then the actions parse them with the CLI's parser, so that syntax errors
 * read the same, and each drops out here by itself once the CLI declares a flag of that name.
 */
const PENDING_MIRROR_FLAGS: readonly FlagSpec[] = [
  { name: 'archive-size', kind: 'int', help: 'maximum size of one archive file in GiB; overrides archiveSize of the configuration' },
  { name: 'registries-conf', kind: 'string', help: 'registries.conf to use for source pulls (default $CONTAINERS_REGISTRIES_CONF)' },
];

/** oc-mirror's `delete` flags (ref §1.7) that the actions use. */
const PENDING_DELETE_FLAGS: readonly FlagSpec[] = [
  { name: 'generate', kind: 'bool', help: 'write the list of images to delete' },
  { name: 'delete-yaml-file', kind: 'string', help: 'the delete list to apply' },
  { name: 'delete-id', kind: 'string', help: 'suffix of generated file names' },
];

function withPending(declared: readonly FlagSpec[], pending: readonly FlagSpec[]): FlagSpec[] {
  const names = new Set(declared.map((flag) => flag.name));
  return [...declared, ...pending.filter((flag) => !names.has(flag.name))];
}

/** The mirror command's flags plus the pending ones. */
export const ACTION_MIRROR_FLAGS: readonly FlagSpec[] = withPending(MIRROR_FLAGS, PENDING_MIRROR_FLAGS);

/** The persistent flags plus the delete command's; the CLI has no delete command yet. */
export const ACTION_DELETE_FLAGS: readonly FlagSpec[] = withPending(withPending(COMMON_FLAGS, PENDING_MIRROR_FLAGS), PENDING_DELETE_FLAGS);
