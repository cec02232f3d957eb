import type { MirrorOptions } from '../options.js';
import { diskToMirror } from './disk-to-mirror.js';
import { mirrorToDisk } from './mirror-to-disk.js';
import { mirrorToMirror } from './mirror-to-mirror.js';
import type { RunHooks, RunLogger, RunOutcome } from './types.js';

export type { RunHooks, RunLogger, RunOutcome };

/** The workflow the options select (ref §1.6). */
export function runMirror(options: MirrorOptions, log: RunLogger, hooks: RunHooks = {}): Promise<RunOutcome> {
  switch (options.workflow) {
    case 'mirrorToMirror':
      return mirrorToMirror(options, log, hooks);
    case 'mirrorToDisk':
      return mirrorToDisk(options, log, hooks);
    case 'diskToMirror':
      return diskToMirror(options, log, hooks);
  }
}
