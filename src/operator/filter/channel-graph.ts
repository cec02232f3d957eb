/**
 * The upgrade graph of one channel. An edge goes from an entry to each entry it supersedes: the
 * one it `replaces`, the ones it `skips`, and (beyond OLM's own head rule and oc-mirror, which
 * read replaces and skips only) every lower-versioned entry whose version its `skipRange`
 * covers. Restricting skipRange edges to lower versions keeps ranges that reach up to the entry
 * itself (`<1.3.0` on 1.2.0 next to 1.2.1 with the same range) from making cycles.
 */
import type { FbcChannel, FbcChannelEntry } from '../declarative-config.js';
import { compareVersions, parseVersionRange, VersionRangeError, type Version } from '../version-range.js';

export type EdgeKind = 'replaces' | 'skips' | 'skipRange';

/** Preference when a path is chosen: the replaces chain first, as OLM's validation walks it. */
const KIND_ORDER: Record<EdgeKind, number> = { replaces: 0, skips: 1, skipRange: 2 };

interface Edge {
  to: number;
  kind: EdgeKind;
}

/** A channel's graph cannot be used: no head, several heads, a cycle. The message names the channel. */
export class ChannelGraphError extends Error {
  override name = 'ChannelGraphError';
}

export class ChannelGraph {
  readonly names: string[];
  readonly index = new Map<string, number>();
  /** undefined where the bundle's version is not semver */
  readonly versions: (Version | undefined)[];
  readonly versionTexts: string[];
  private readonly out: Edge[][];
  private readonly incoming: number[][];
  private reachCache?: Uint32Array[];
  /** problems that do not stop filtering (an unreadable skipRange) */
  readonly warnings: string[] = [];

  constructor(
    readonly channel: FbcChannel,
    versionOf: (bundleName: string) => { text: string; parsed: Version | undefined },
  ) {
    const entries = channel.entries;
    this.names = entries.map((e) => e.name);
    entries.forEach((e, i) => this.index.set(e.name, i));
    const versions = entries.map((e) => versionOf(e.name));
    this.versions = versions.map((v) => v.parsed);
    this.versionTexts = versions.map((v) => v.text);
    this.out = entries.map(() => []);
    this.incoming = entries.map(() => []);
    entries.forEach((entry, from) => this.addEdges(entry, from));
    for (const edges of this.out) edges.sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.to - b.to);
  }

  get size(): number {
    return this.names.length;
  }

  private addEdges(entry: FbcChannelEntry, from: number): void {
    const seen = new Set<number>();
    const add = (to: number | undefined, kind: EdgeKind): void => {
      if (to === undefined || seen.has(to)) return;
      if (to === from) {
        throw new ChannelGraphError(`channel "${this.channel.name}": entry "${entry.name}" ${kind === 'replaces' ? 'replaces' : 'skips'} itself`);
      }
      seen.add(to);
      this.out[from]!.push({ to, kind });
      this.incoming[to]!.push(from);
    };
    if (entry.replaces) add(this.index.get(entry.replaces), 'replaces');
    for (const skip of entry.skips ?? []) add(this.index.get(skip), 'skips');
    if (!entry.skipRange) return;
    const own = this.versions[from];
    let range;
    try {
      range = parseVersionRange(entry.skipRange);
    } catch (err) {
      if (!(err instanceof VersionRangeError)) throw err;
      this.warnings.push(`channel "${this.channel.name}" entry "${entry.name}": skipRange ignored: ${err.message}`);
      return;
    }
    if (!own) return;
    this.versions.forEach((v, to) => {
      if (to !== from && v && compareVersions(v, own) < 0 && range.matches(v)) add(to, 'skipRange');
    });
  }

  describe(node: number): string {
    return `${this.names[node]} (${this.versionTexts[node]})`;
  }

  /** The one entry nothing supersedes; throws on none, several, or a cycle. */
  head(): number {
    this.checkAcyclic();
    const heads = this.names.map((_, i) => i).filter((i) => this.incoming[i]!.length === 0);
    if (heads.length === 1) return heads[0]!;
    if (heads.length === 0) throw new ChannelGraphError(`channel "${this.channel.name}" has no head: every entry is replaced or skipped by another`);
    const listed = heads
      .map((i) => this.describe(i))
      .sort()
      .join(', ');
    throw new ChannelGraphError(
      `channel "${this.channel.name}" has ${heads.length} heads, entries that no other entry replaces, skips or covers by skipRange: ${listed}; ` +
        'OLM needs exactly one head per channel (the catalog is inconsistent, or the range cut its upgrade graph apart)',
    );
  }

  private checkAcyclic(): void {
    const remaining = this.incoming.map((preds) => preds.length);
    const ready = remaining.flatMap((count, i) => (count === 0 ? [i] : []));
    let done = 0;
    while (ready.length > 0) {
      const node = ready.pop()!;
      done++;
      for (const { to } of this.out[node]!) if (--remaining[to]! === 0) ready.push(to);
    }
    if (done === this.size) return;
    const cycle = this.findCycle(remaining);
    throw new ChannelGraphError(`channel "${this.channel.name}" has a cycle in its upgrade graph: ${cycle.map((i) => this.names[i]).join(' -> ')}`);
  }

  /**
   * A cycle among the nodes Kahn's algorithm could not remove (remaining > 0). Each of them has a
   * predecessor that was not removed either, so walking predecessors must come back on itself.
   */
  private findCycle(remaining: number[]): number[] {
    const position = new Map<number, number>();
    const path: number[] = [];
    let node = remaining.findIndex((r) => r > 0);
    while (!position.has(node)) {
      position.set(node, path.length);
      path.push(node);
      node = this.incoming[node]!.find((p) => remaining[p]! > 0)!;
    }
    return [...path.slice(position.get(node)!), node].reverse();
  }

  /** Bitsets of the entries reachable from each entry (itself included). Needs an acyclic graph. */
  private reach(): Uint32Array[] {
    if (this.reachCache) return this.reachCache;
    const words = Math.ceil(this.size / 32);
    const reach: Uint32Array[] = new Array(this.size);
    const visit = (node: number): Uint32Array => {
      const known = reach[node];
      if (known) return known;
      const bits = new Uint32Array(words);
      bits[node >>> 5]! |= 1 << (node & 31);
      for (const { to } of this.out[node]!) {
        const below = visit(to);
        for (let w = 0; w < words; w++) bits[w]! |= below[w]!;
      }
      reach[node] = bits;
      return bits;
    };
    // Iterative order (deepest first) keeps the recursion shallow on long replaces chains.
    for (const node of this.topologicalOrder().reverse()) visit(node);
    this.reachCache = reach;
    return reach;
  }

  private topologicalOrder(): number[] {
    const remaining = this.incoming.map((preds) => preds.length);
    const ready = remaining.flatMap((count, i) => (count === 0 ? [i] : []));
    const order: number[] = [];
    while (ready.length > 0) {
      const node = ready.pop()!;
      order.push(node);
      for (const { to } of this.out[node]!) if (--remaining[to]! === 0) ready.push(to);
    }
    return order;
  }

  /**
   * The entries to keep so that `wanted` survives as a consistent channel: a new head (the entry
   * reaching every wanted entry with the fewest entries below it, so a maxVersion below the
   * head makes the highest wanted entry the head), the replaces chain from it down to the last
   * entry that still leads to a wanted one (OLM requires non-skipped entries on that chain), the
   * wanted entries, and the entries on the shortest path from the head to any kept entry that
   * nothing kept supersedes. Needs a graph whose `head()` succeeded.
   */
  span(wanted: ReadonlySet<number>): { head: number; kept: Set<number> } {
    const reach = this.reach();
    const words = Math.ceil(this.size / 32);
    const want = new Uint32Array(words);
    for (const n of wanted) want[n >>> 5]! |= 1 << (n & 31);
    // `&` yields a signed int32; `>>> 0` brings it back to the unsigned value the array holds.
    const covers = (bits: Uint32Array): boolean => bits.every((word, w) => (word & want[w]!) >>> 0 === want[w]!);
    const touches = (bits: Uint32Array): boolean => bits.some((word, w) => (word & want[w]!) !== 0);
    let head = -1;
    let headSize = Infinity;
    for (let node = 0; node < this.size; node++) {
      if (!covers(reach[node]!)) continue;
      const size = popcount(reach[node]!);
      if (size < headSize || (size === headSize && this.isNewer(node, head))) {
        head = node;
        headSize = size;
      }
    }
    const kept = new Set<number>(wanted);
    kept.add(head);
    for (let node: number | undefined = head; node !== undefined && touches(reach[node]!); node = this.replacesOf(node)) {
      kept.add(node);
    }
    this.connect(head, kept);
    return { head, kept };
  }

  private isNewer(a: number, b: number): boolean {
    const va = this.versions[a];
    const vb = this.versions[b];
    if (va && vb && compareVersions(va, vb) !== 0) return compareVersions(va, vb) > 0;
    return this.names[a]! < this.names[b]!;
  }

  private replacesOf(node: number): number | undefined {
    return this.out[node]!.find((e) => e.kind === 'replaces')?.to;
  }

  /** Adds to `kept` the path from `head` to every kept entry nothing kept supersedes. */
  private connect(head: number, kept: Set<number>): void {
    const parent = new Map<number, number>([[head, head]]);
    const queue = [head];
    for (let i = 0; i < queue.length; i++) {
      for (const { to } of this.out[queue[i]!]!) {
        if (!parent.has(to)) {
          parent.set(to, queue[i]!);
          queue.push(to);
        }
      }
    }
    const pending = [...kept];
    while (pending.length > 0) {
      const node = pending.pop()!;
      if (node === head || this.incoming[node]!.some((p) => kept.has(p))) continue;
      const up = parent.get(node)!;
      kept.add(up);
      pending.push(up);
    }
  }

  /** Every entry (for full channels). */
  all(): Set<number> {
    return new Set(this.names.map((_, i) => i));
  }
}

function popcount(bits: Uint32Array): number {
  let count = 0;
  for (let word of bits) {
    while (word !== 0) {
      word &= word - 1;
      count++;
    }
  }
  return count;
}
