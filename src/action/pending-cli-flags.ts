import type { FlagSpec } from '../cli/flags.js';
import { DELETE_FLAGS } from '../cli/delete-command.js';

/**
 * The delete command's flags, as the actions read their inputs. The CLI declares every flag the
 * actions pass (ref §1.7), so the actions parse with the CLI's own table and errors read the same.
 */
export const ACTION_DELETE_FLAGS: readonly FlagSpec[] = DELETE_FLAGS;
