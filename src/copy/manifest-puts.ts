/**
 * Orders the manifest PUTs of one run so that none rewrites a link another is reading.
 *
 * Distribution rewrites a manifest's revision link in place on every PUT of that manifest (by tag
 * or by digest), and an index PUT reads its children's links to check they exist. An index PUT
 * that meets a child's link mid-rewrite fails with DIGEST_INVALID or MANIFEST_BLOB_UNKNOWN: an
 * index and one of its children mirrored as two images of one run do exactly that. So, within
 * one repository, a PUT of a manifest waits for PUTs of that manifest and for index PUTs that
 * reference it; an index PUT waits for PUTs of its children. PUTs of unrelated manifests still
 * run side by side.
 */
export class ManifestPuts {
  /** repository|digest → PUTs of that manifest under way */
  private readonly writing = new Map<string, Set<Promise<void>>>();
  /** repository|digest → index PUTs under way that reference that manifest */
  private readonly reading = new Map<string, Set<Promise<void>>>();
  /** repository|digest → a PUT of that manifest succeeded in this run */
  private readonly placed = new Set<string>();

  /** Whether this run put the manifest into the repository. */
  has(repository: string, digest: string): boolean {
    return this.placed.has(`${repository}|${digest}`);
  }

  /**
   * Runs `put` once nothing it conflicts with is under way. A PUT by digest of a manifest that
   * this run already put there is skipped; a PUT by tag always runs (the tag is what it adds).
   */
  async run(repository: string, digest: string, byDigest: boolean, children: readonly string[], put: () => Promise<void>): Promise<void> {
    const key = `${repository}|${digest}`;
    const childKeys = children.map((child) => `${repository}|${child}`);
    for (;;) {
      const blocking = [...members(this.writing, key), ...members(this.reading, key), ...childKeys.flatMap((k) => members(this.writing, k))];
      if (blocking.length === 0) break;
      await Promise.allSettled(blocking);
    }
    if (byDigest && this.placed.has(key)) return;
    // Registered before the first await, so no conflicting PUT can start in between.
    const running = put();
    add(this.writing, key, running);
    for (const k of childKeys) add(this.reading, k, running);
    try {
      await running;
      this.placed.add(key);
    } finally {
      remove(this.writing, key, running);
      for (const k of childKeys) remove(this.reading, k, running);
    }
  }
}

function members(map: Map<string, Set<Promise<void>>>, key: string): Promise<void>[] {
  return [...(map.get(key) ?? [])];
}

function add(map: Map<string, Set<Promise<void>>>, key: string, p: Promise<void>): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(p);
}

function remove(map: Map<string, Set<Promise<void>>>, key: string, p: Promise<void>): void {
  const set = map.get(key);
  set?.delete(p);
  if (set?.size === 0) map.delete(key);
}
