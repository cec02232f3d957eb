/**
 * What deleting a list's items from one repository does, decided before anything is deleted.
 * Deleting a manifest removes every tag pointing at it, and an index needs its children: so a
 * manifest that a tag the list does not name still reaches (directly or through an index) is kept.
 * Pure logic over what the registry answered; the executor asks and acts.
 */
import { digestTag } from '../image/digest.js';

export interface RepositoryState {
  /** every tag of the repository → the digest it points at */
  tags: ReadonlyMap<string, string>;
  /** the children of each index manifest the registry showed us (image manifests are absent) */
  indexChildren: ReadonlyMap<string, readonly string[]>;
}

/** One listed item of this repository: the tag it names, and its digest when the registry has it. */
export interface Wanted {
  tag?: string;
  /** undefined: the registry no longer has it */
  digest?: string;
}

export type Decision =
  | { status: 'delete'; digest: string }
  | { status: 'gone' }
  | { status: 'kept'; digest: string; reason: string };

export interface RepositoryDecision {
  /** per wanted item, in order */
  items: Decision[];
  /** children of deleted indexes that nothing else needs: deleted after their parents */
  children: string[];
  /** sigstore signature tags of deleted manifests (`sha256-<hex>.sig`) and their digests */
  signatures: { tag: string; digest: string }[];
}

const SIGNATURE_TAG = /^(sha256)-([a-f0-9]{64})\.sig$/;

export function decideRepository(repository: string, wanted: readonly Wanted[], state: RepositoryState, deleteSignatures: boolean): RepositoryDecision {
  // Tags the list names; an item named by digest also names the tag mirroring gives digest-only
  // images (`sha256-<hex>`), which is how it sits at the destination.
  const named = new Set<string>();
  for (const w of wanted) {
    if (w.tag) named.add(w.tag);
    else if (w.digest) named.add(digestTag(w.digest));
  }
  // Signatures go with the images they sign, when asked: their tags keep nothing (a signature
  // manifest is never part of an image), and those of manifests that stay are left alone below.
  if (deleteSignatures) for (const tag of state.tags.keys()) if (SIGNATURE_TAG.test(tag)) named.add(tag);

  // What tags outside the list reach, and through which tag (for the report).
  const reachedBy = new Map<string, { tag: string; via?: string }>();
  const reach = (digest: string, tag: string, via?: string) => {
    if (reachedBy.has(digest)) return;
    reachedBy.set(digest, { tag, ...(via && { via }) });
    for (const child of state.indexChildren.get(digest) ?? []) reach(child, tag, via ?? digest);
  };
  for (const [tag, digest] of [...state.tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!named.has(tag)) reach(digest, tag);
  }

  const items: Decision[] = wanted.map((w) => {
    if (!w.digest) return { status: 'gone' };
    const by = reachedBy.get(w.digest);
    if (!by) return { status: 'delete', digest: w.digest };
    const reason = by.via
      ? `part of index ${repository}:${by.tag} (${by.via}), which is not being deleted`
      : `also tagged ${repository}:${by.tag}, which the list does not name`;
    return { status: 'kept', digest: w.digest, reason };
  });

  const deleted = new Set(items.flatMap((d) => (d.status === 'delete' ? [d.digest] : [])));
  const children: string[] = [];
  const addChildren = (digest: string) => {
    for (const child of state.indexChildren.get(digest) ?? []) {
      if (deleted.has(child) || reachedBy.has(child)) continue;
      deleted.add(child);
      children.push(child);
      addChildren(child);
    }
  };
  for (const d of [...deleted]) addChildren(d);

  const signatures: { tag: string; digest: string }[] = [];
  if (deleteSignatures) {
    for (const [tag, digest] of state.tags) {
      const m = SIGNATURE_TAG.exec(tag);
      if (m && deleted.has(`${m[1]}:${m[2]}`) && !deleted.has(digest)) signatures.push({ tag, digest });
    }
    signatures.sort((a, b) => (a.tag < b.tag ? -1 : 1));
  }
  return { items, children, signatures };
}
