import type { FlagSpec } from '../cli/flags.js';
import { COMMON_FLAGS } from '../cli/mirror-command.js';

/**
 * oc-mirror's `delete` flags (ref §1.7) that the actions use. The CLI has no delete command yet;
 * until it has, the actions parse them with the CLI's parser so that errors read the same, and
 * each drops out here by itself once the CLI declares a flag of that name.
 */
const PENDING_DELETE_FLAGS: readonly FlagSpec[] = [
  { name: 'generate', kind: 'bool', help: 'write the list of images to delete' },
  { name: 'delete-yaml-file', kind: 'string', help: 'the delete list to apply' },
  { name: 'delete-id', kind: 'string', help: 'suffix of generated file names' },
];

function withPending(declared: readonly FlagSpec[], pending: readonly FlagSpec[]): FlagSpec[] {
  const names = new Set(declared.map((flag) => flag.name));
  return [...declared, ...pending.filter((flag) => !names.has(flag.name))];
}

/** The persistent flags plus the delete command's. */
export const ACTION_DELETE_FLAGS: readonly FlagSpec[] = withPending(COMMON_FLAGS, PENDING_DELETE_FLAGS);
