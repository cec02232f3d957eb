/**
 * Deleting a list's items at the destination (ref §11.2): first every repository involved is read
 * (its tags, the digests they point at, the children of its indexes) and every item resolved to a
 * digest, so that nothing is deleted unless the whole picture is known; then manifests are deleted
 * by digest, parents before the children of their indexes, with the copy's parallelism and retries.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, RegistryError } from '../errors.js';
import { isIndexMediaType, viewManifest } from '../image/manifest.js';
import { repositoryName, type ImageReference } from '../image/reference.js';
import { Limiter } from '../copy/limit.js';
import { isRetryable, retryDelay, type RetryPolicy } from '../copy/retry.js';
import type { Logger } from '../log.js';
import type { RegistryRepository } from '../registry/client.js';
import { decideRepository, type RepositoryState, type Wanted } from './decide.js';
import type { ListedItem } from './list.js';

export interface ExecuteOptions extends RetryPolicy {
  parallelImages: number;
  deleteSignatures: boolean;
  dryRun: boolean;
}

/**
 * - `deleted`: the registry deleted it in this run (or would, in a dry run);
 * - `gone`: the registry no longer had it: not an error;
 * - `kept`: a tag the list does not name still needs it; `reason` says which;
 * - `failed`: the deletion failed; `reason` says why.
 */
export type DeleteStatus = 'deleted' | 'gone' | 'kept' | 'failed';

export interface DeletedManifest {
  /** `host/repository` */
  repository: string;
  digest: string;
  /** what it is: a listed item, a child of a deleted index, a signature */
  role: 'item' | 'child' | 'signature';
  /** the listed item, for role item */
  item?: ListedItem;
  /** a signature's tag */
  tag?: string;
  status: DeleteStatus;
  reason?: string;
}

export interface ExecuteResult {
  /** per listed item, in list order */
  items: { item: ListedItem; status: DeleteStatus; digest?: string; reason?: string }[];
  /** every manifest the run deleted or tried to, items included */
  manifests: DeletedManifest[];
  /** the registry answered 405 to a DELETE: deletion is switched off there */
  disabledOn?: string;
}

export async function executeDeletes(
  items: readonly ListedItem[],
  open: (ref: ImageReference) => RegistryRepository,
  options: ExecuteOptions,
  log: Logger,
): Promise<ExecuteResult> {
  const limiter = new Limiter(options.parallelImages);
  const byRepository = new Map<string, ListedItem[]>();
  for (const item of items) {
    const key = repositoryName(item.ref);
    byRepository.set(key, [...(byRepository.get(key) ?? []), item]);
  }

  // Read everything first: a failure here deletes nothing.
  const plans = await Promise.all(
    [...byRepository].map(async ([name, listed]) => {
      const repo = open(listed[0]!.ref);
      const state = await readRepository(repo, listed, limiter, options);
      const wanted: Wanted[] = listed.map((item) => {
        const digest = item.ref.digest ? (state.present.has(item.ref.digest) ? item.ref.digest : undefined) : state.tags.get(item.ref.tag!);
        return { ...(item.ref.tag && { tag: item.ref.tag }), ...(digest && { digest }) };
      });
      return { name, repo, listed, decision: decideRepository(name, wanted, state, options.deleteSignatures) };
    }),
  );

  const result: ExecuteResult = { items: [], manifests: [] };
  const parents: (() => Promise<void>)[] = [];
  const children: (() => Promise<void>)[] = [];
  const abort = new AbortController();
  for (const { name, repo, listed, decision } of plans) {
    // One DELETE per digest: two items may name the same manifest (a tag and its digest).
    const once = new Map<string, DeletedManifest>();
    const schedule = (queue: (() => Promise<void>)[], m: DeletedManifest) => {
      result.manifests.push(m);
      queue.push(async () => {
        if (options.dryRun) return;
        if (abort.signal.aborted) {
          m.status = 'failed';
          m.reason = `not attempted: deletion is disabled on ${result.disabledOn}`;
          return;
        }
        try {
          m.status = (await limiter.run(() => withRetries(options, (signal) => repo.deleteManifest(m.digest, AbortSignal.any([signal, abort.signal]))))) ? 'deleted' : 'gone';
        } catch (err) {
          m.status = 'failed';
          if (err instanceof RegistryError && err.status === 405) {
            result.disabledOn ??= repo.host;
            abort.abort();
            m.reason = disabledMessage(repo.host);
          } else {
            m.reason = abort.signal.aborted ? `not attempted: deletion is disabled on ${result.disabledOn}` : errorMessage(err);
          }
        }
      });
    };
    listed.forEach((item, i) => {
      const d = decision.items[i]!;
      if (d.status !== 'delete') {
        result.items.push({ item, status: d.status, ...(d.status === 'kept' && { digest: d.digest, reason: d.reason }) });
        return;
      }
      let m = once.get(d.digest);
      if (!m) {
        m = { repository: name, digest: d.digest, role: 'item', item, status: 'deleted' };
        once.set(d.digest, m);
        schedule(parents, m);
      }
      result.items.push({ item, status: 'deleted', digest: d.digest });
    });
    for (const s of decision.signatures) schedule(parents, { repository: name, digest: s.digest, role: 'signature', tag: s.tag, status: 'deleted' });
    for (const c of decision.children) schedule(children, { repository: name, digest: c, role: 'child', status: 'deleted' });
  }

  // Parents first: an interrupted run never leaves an index whose children are gone.
  await Promise.all(parents.map((run) => run()));
  await Promise.all(children.map((run) => run()));
  // An item's line reports its manifest's fate (several items may share one manifest).
  for (const entry of result.items) {
    if (entry.status !== 'deleted') continue;
    const m = result.manifests.find((x) => x.role === 'item' && x.repository === repositoryName(entry.item.ref) && x.digest === entry.digest)!;
    entry.status = m.status;
    if (m.reason) entry.reason = m.reason;
  }
  if (result.disabledOn) log.debug(`DELETE answered 405 on ${result.disabledOn}`);
  return result;
}

export function disabledMessage(host: string): string {
  return `deletion is disabled on ${host} (REGISTRY_STORAGE_DELETE_ENABLED=true): the registry refuses DELETE (405); enable storage.delete.enabled in its configuration and run again`;
}

interface ReadState extends RepositoryState {
  /** digests the registry has (tag targets, and items named by digest found by HEAD) */
  present: Set<string>;
}

/**
 * Tags and their manifests, and the items named by digest (HEAD); indexes are read to know their
 * children. Tags an item names but the listing lacks are asked for by HEAD too.
 */
async function readRepository(repo: RegistryRepository, listed: readonly ListedItem[], limiter: Limiter, policy: RetryPolicy): Promise<ReadState> {
  const tags = new Map<string, string>();
  const indexChildren = new Map<string, string[]>();
  const present = new Set<string>();
  const read = new Set<string>();
  /** Reads a manifest once per digest (verified against it) to know whether it is an index. */
  const learn = async (digest: string): Promise<string> => {
    present.add(digest);
    if (read.has(digest)) return digest;
    read.add(digest);
    const manifest = await limiter.run(() => withRetries(policy, (signal) => repo.getManifest(digest, signal)));
    const view = viewManifest(manifest, `${repo.name}@${digest}`);
    if (view.kind === 'index') {
      indexChildren.set(digest, view.manifests.map((m) => m.digest));
      // Nested indexes are read for their children too; image manifests need no reading.
      await Promise.all(view.manifests.filter((m) => isIndexMediaType(m.mediaType)).map((m) => learn(m.digest)));
    }
    return digest;
  };
  const headThenLearn = async (reference: string): Promise<string | undefined> => {
    const digest = await limiter.run(() => withRetries(policy, (signal) => repo.manifestDigest(reference, signal)));
    return digest === undefined ? undefined : learn(digest);
  };
  const listedTags = await withRetries(policy, (signal) => repo.listTags(signal));
  await Promise.all(
    listedTags.map(async (tag) => {
      const digest = await headThenLearn(tag);
      if (digest) tags.set(tag, digest);
    }),
  );
  await Promise.all(
    listed.map(async (item) => {
      if (item.ref.digest) {
        await headThenLearn(item.ref.digest);
      } else if (!tags.has(item.ref.tag!)) {
        const digest = await headThenLearn(item.ref.tag!);
        if (digest) tags.set(item.ref.tag!, digest);
      }
    }),
  );
  return { tags, indexChildren, present };
}

/** A registry that stops answering fails the request rather than the whole run hanging. */
const REQUEST_TIMEOUT_MS = 120_000;

async function withRetries<T>(policy: RetryPolicy, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(AbortSignal.timeout(REQUEST_TIMEOUT_MS));
    } catch (err) {
      if (attempt > policy.retryTimes || !isRetryable(err)) throw err;
      await sleep(retryDelay(policy, attempt, err));
    }
  }
}
