import { parseReference } from '../image/reference.js';
import { destinationRepository } from '../plan/naming.js';
import type { CopyTask } from '../plan/types.js';

/** One `source` → `mirror` pair of an ImageDigestMirrorSet / ImageTagMirrorSet. */
export interface MirrorScope {
  source: string;
  mirror: string;
}

/**
 * Decides, for every copied task, whether its IDMS/ITMS entry is namespace scoped (`quay.io/ns` →
 * `mirror/prefix/ns`) or repository scoped (`quay.io/ns/img` → `mirror/prefix/ns/img`).
 *
 * oc-mirror (ref §6.1) scopes by namespace whenever the destination repository path ends with the
 * source repository path. A namespace entry redirects every repository under the source namespace,
 * at any depth, including ones this run never mirrored; when the destination namespace holds
 * something else under that name (release images in `openshift/`, the same path from another
 * registry, a targetRepo), a tag pull is served the wrong image and a digest pull reaches the wrong
 * repository (ref §15 item 16). So the rule here is stricter:
 *
 *   source namespace N (registry + parent path, at least one path component) is mapped to
 *   destination namespace M only when, over all the copied tasks given,
 *   (1) every source repository under N is copied to the same relative path under M, and
 *   (2) every destination repository under M was copied from the same relative path under N.
 *   Otherwise every repository of N gets repository scope (listing all of its mirrors, so that
 *   its more specific entry never hides a mirror the namespace entry would have given).
 *
 * `--max-nested-paths` > 0 forces repository scope, as in oc-mirror. Graph and catalog tasks take
 * part in the check (they occupy destination repositories) even though they get no entry.
 */
export function mirrorScopes(tasks: readonly CopyTask[], maxNestedPaths: number): (task: CopyTask) => MirrorScope {
  const pairs = uniquePairs(tasks);
  const approved = maxNestedPaths > 0 ? new Map<string, string>() : approvedNamespaces(pairs);
  return (task) => {
    const pair = repositoryPair(task);
    const candidate = namespaceCandidate(pair);
    if (candidate && approved.get(candidate.source) === candidate.mirror) return candidate;
    return pair;
  };
}

function repositoryPair(task: CopyTask): MirrorScope {
  const ref = parseReference(task.source);
  return { source: `${ref.registry}/${ref.repository}`, mirror: destinationRepository(task.destination) };
}

function uniquePairs(tasks: readonly CopyTask[]): MirrorScope[] {
  const seen = new Map<string, MirrorScope>();
  for (const task of tasks) {
    const pair = repositoryPair(task);
    seen.set(`${pair.source}\n${pair.mirror}`, pair);
  }
  return [...seen.values()];
}

/** oc-mirror's rule: the destination path ends with the source path → both cut to their parent. */
function namespaceCandidate(pair: MirrorScope): MirrorScope | undefined {
  const sourcePath = pair.source.split('/').slice(1);
  const mirrorPath = pair.mirror.split('/').slice(1);
  // A repository at the root of its registry has no namespace: a whole-registry redirect is too broad.
  if (sourcePath.length < 2 || mirrorPath.length < sourcePath.length) return undefined;
  const tail = mirrorPath.slice(mirrorPath.length - sourcePath.length);
  if (tail.some((component, i) => component !== sourcePath[i])) return undefined;
  return { source: parentOf(pair.source), mirror: parentOf(pair.mirror) };
}

function parentOf(repository: string): string {
  return repository.slice(0, repository.lastIndexOf('/'));
}

function approvedNamespaces(pairs: readonly MirrorScope[]): Map<string, string> {
  const proposed = new Map<string, string>();
  for (const pair of pairs) {
    const candidate = namespaceCandidate(pair);
    if (candidate && !proposed.has(candidate.source)) proposed.set(candidate.source, candidate.mirror);
  }
  const approved = new Map<string, string>();
  for (const [namespace, mirror] of proposed) {
    if (holdsExactly(namespace, mirror, pairs)) approved.set(namespace, mirror);
  }
  return approved;
}

function holdsExactly(namespace: string, mirror: string, pairs: readonly MirrorScope[]): boolean {
  return pairs.every((pair) => {
    const sourceRel = relativeTo(pair.source, namespace);
    const mirrorRel = relativeTo(pair.mirror, mirror);
    if (sourceRel === undefined && mirrorRel === undefined) return true;
    return sourceRel === mirrorRel;
  });
}

function relativeTo(repository: string, namespace: string): string | undefined {
  return repository.startsWith(`${namespace}/`) ? repository.slice(namespace.length + 1) : undefined;
}
