import { join } from 'node:path';
import type { MirrorOptions } from '../options.js';

/** `<cache-dir>/.oc-mirror/.cache`, where oc-mirror keeps its cache (ref §1.3). */
export function storeRoot(options: Pick<MirrorOptions, 'cacheDir'>): string {
  return join(options.cacheDir, '.oc-mirror', '.cache');
}
