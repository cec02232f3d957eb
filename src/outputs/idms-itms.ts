import { Document, Scalar } from 'yaml';
import { parseReference } from '../image/reference.js';
import type { CopyTask, ImageKind } from '../plan/types.js';
import { mirrorScopes } from './mirror-scope.js';

export interface MirrorSetOptions {
  /** `--max-nested-paths`; > 0 forces repository scope */
  maxNestedPaths: number;
  /** RFC 3339 UTC, e.g. `2026-01-01T10:00:00Z` */
  createdAt: string;
  /** written as the `oc-mirror_version` annotation */
  version: string;
}

export interface MirrorSets {
  /** idms-oc-mirror.yaml, absent when no entry qualifies */
  idms?: string;
  /** itms-oc-mirror.yaml, absent when no entry qualifies */
  itms?: string;
}

/** The object-name categories of ref §6.1, in the order the objects are written. */
type MirrorCategory = 'release' | 'operator' | 'generic';
const CATEGORIES: readonly MirrorCategory[] = ['release', 'operator', 'generic'];

/** Graph and catalog images get no entry (ref §6.1): nothing pulls them by their source name. */
function categoryOf(kind: ImageKind): MirrorCategory | undefined {
  switch (kind) {
    case 'ocpRelease':
    case 'ocpReleaseContent':
      return 'release';
    case 'operatorBundle':
    case 'operatorRelatedImage':
      return 'operator';
    case 'generic':
    case 'helmImage':
      return 'generic';
    case 'cincinnatiGraph':
    case 'operatorCatalog':
      return undefined;
  }
}

type Entries = Map<string, Set<string>>;

/**
 * ImageDigestMirrorSet / ImageTagMirrorSet (ref §6.1) for the tasks that were copied successfully.
 * IDMS: images with a digest, plus release payloads even by tag (oc-mirror v1 compatibility).
 * ITMS: every image that is not digest-only. Unlike oc-mirror the output is deterministic: objects
 * release, operator, generic; entries sorted by source; mirrors de-duplicated and sorted.
 */
export function renderMirrorSets(tasks: readonly CopyTask[], opts: MirrorSetOptions): MirrorSets {
  const scopeOf = mirrorScopes(tasks, opts.maxNestedPaths);
  const digest = emptyEntries();
  const tag = emptyEntries();
  for (const task of tasks) {
    const category = categoryOf(task.kind);
    if (!category) continue;
    const ref = parseReference(task.source);
    const { source, mirror } = scopeOf(task);
    if (ref.digest !== undefined || task.kind === 'ocpRelease') add(digest[category], source, mirror);
    if (ref.tag !== undefined || ref.digest === undefined) add(tag[category], source, mirror);
  }
  const idms = renderKind('ImageDigestMirrorSet', 'idms', 'imageDigestMirrors', digest, opts);
  const itms = renderKind('ImageTagMirrorSet', 'itms', 'imageTagMirrors', tag, opts);
  return { ...(idms && { idms }), ...(itms && { itms }) };
}

function emptyEntries(): Record<MirrorCategory, Entries> {
  return { release: new Map(), operator: new Map(), generic: new Map() };
}

function add(entries: Entries, source: string, mirror: string): void {
  let mirrors = entries.get(source);
  if (!mirrors) {
    mirrors = new Set();
    entries.set(source, mirrors);
  }
  mirrors.add(mirror);
}

function renderKind(
  kind: string,
  namePrefix: string,
  listKey: string,
  byCategory: Record<MirrorCategory, Entries>,
  opts: MirrorSetOptions,
): string | undefined {
  const documents = CATEGORIES.filter((category) => byCategory[category].size > 0).map((category) =>
    renderDocument(kind, `${namePrefix}-${category}-0`, listKey, byCategory[category], opts),
  );
  return documents.length > 0 ? documents.join('') : undefined;
}

function renderDocument(kind: string, name: string, listKey: string, entries: Entries, opts: MirrorSetOptions): string {
  const list = [...entries.keys()].sort(byCodeUnit).map((source) => ({
    mirrors: [...entries.get(source)!].sort(byCodeUnit),
    source,
  }));
  // Keys in the order Go's YAML marshaller writes them (alphabetical), so diffs against oc-mirror's files stay small.
  const doc = new Document({
    apiVersion: 'config.openshift.io/v1',
    kind,
    metadata: {
      annotations: { createdAt: opts.createdAt, createdBy: 'oc-mirror v2', 'oc-mirror_version': opts.version },
      name,
    },
    spec: { [listKey]: list },
  });
  // A timestamp-looking string is quoted by oc-mirror (YAML 1.1 would read it as a timestamp).
  const createdAt = doc.getIn(['metadata', 'annotations', 'createdAt'], true);
  if (createdAt instanceof Scalar) createdAt.type = Scalar.QUOTE_DOUBLE;
  return `---\n${doc.toString({ indentSeq: false, lineWidth: 0 })}`;
}

/** Locale-independent order: the same bytes on every machine. */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
