import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import * as cache from '@actions/cache';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { parseRecord, type PlanRecord } from './plan-record.js';
import { storeCacheAvailable } from './store-cache.js';

/**
 * The last plan of a configuration file, in the Actions cache, for the plan summary's "changes
 * since the last plan". Keys: `oc-mirror-plan-<file>-<content>-<run>-<attempt>` (file: a hash of
 * its path in the repository; content: a hash of its bytes). A run restores the newest plan of the
 * same content, else the newest of the same file, so a pull request that edits the file compares
 * with the plan its base branch last made. Pull request runs do not save: their plans would
 * otherwise become the baseline of their own next push (caches of a PR ref are read first).
 */
const PREFIX = 'oc-mirror-plan';

export interface PlanCacheKeys {
  save: string;
  restore: [string, string];
}

function shortHash(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

export function planCacheKeys(configPath: string, env: NodeJS.ProcessEnv): PlanCacheKeys {
  const file = shortHash(relative(env.GITHUB_WORKSPACE || process.cwd(), configPath));
  const content = shortHash(readFileSync(configPath));
  return {
    save: `${PREFIX}-${file}-${content}-${env.GITHUB_RUN_ID ?? Date.now()}-${env.GITHUB_RUN_ATTEMPT ?? 1}`,
    restore: [`${PREFIX}-${file}-${content}-`, `${PREFIX}-${file}-`],
  };
}

const dirOf = (env: NodeJS.ProcessEnv): string => join(env.RUNNER_TEMP || process.cwd(), 'oc-mirror-plan-cache');

export async function restorePreviousPlan(keys: PlanCacheKeys, env: NodeJS.ProcessEnv, log: Logger): Promise<{ record: PlanRecord; key: string } | undefined> {
  if (!storeCacheAvailable()) return undefined;
  const dir = dirOf(env);
  await rm(dir, { recursive: true, force: true });
  try {
    const key = await cache.restoreCache([dir], keys.restore[0], [keys.restore[1]]);
    if (!key) return undefined;
    return { record: parseRecord(await readFile(join(dir, 'plan.json'), 'utf8'), `the cached plan ${key}`), key };
  } catch (err) {
    log.warn(`the previous plan could not be read from the Actions cache, so no changes are shown: ${errorMessage(err)}`);
    return undefined;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function savePlan(keys: PlanCacheKeys, record: PlanRecord, env: NodeJS.ProcessEnv, log: Logger): Promise<boolean> {
  if (!storeCacheAvailable()) return false;
  if (env.GITHUB_EVENT_NAME === 'pull_request' || env.GITHUB_EVENT_NAME === 'pull_request_target') {
    log.info('plan cache: not saved from a pull request run (the base branch\'s plan stays the baseline)');
    return false;
  }
  const dir = dirOf(env);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'plan.json'), JSON.stringify(record));
  try {
    const id = await cache.saveCache([dir], keys.save);
    if (id > 0) return true;
    log.warn(`plan cache: the Actions cache refused to save ${keys.save} (quota reached, rate limited or saved already); the next plan compares with an older one`);
    return false;
  } catch (err) {
    log.warn(`plan cache: saving ${keys.save}: ${errorMessage(err)}`);
    return false;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
