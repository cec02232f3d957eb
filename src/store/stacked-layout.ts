import type { Readable } from 'node:stream';
import type { LayoutReader } from './layout.js';

/**
 * Several layouts read as one, the first that has a file winning: archives of this transfer in
 * front of the local store, so that disk to mirror finds blobs shipped by an earlier archive.
 */
export class StackedLayout implements LayoutReader {
  constructor(private readonly layers: LayoutReader[]) {}

  async readSmall(path: string): Promise<Buffer | undefined> {
    for (const l of this.layers) {
      const b = await l.readSmall(path);
      if (b !== undefined) return b;
    }
    return undefined;
  }

  async size(path: string): Promise<number | undefined> {
    for (const l of this.layers) {
      const s = await l.size(path);
      if (s !== undefined) return s;
    }
    return undefined;
  }

  async open(path: string): Promise<Readable | undefined> {
    for (const l of this.layers) {
      const s = await l.open(path);
      if (s !== undefined) return s;
    }
    return undefined;
  }

  async list(dir: string): Promise<string[]> {
    const names = new Set<string>();
    for (const l of this.layers) for (const n of await l.list(dir)) names.add(n);
    return [...names].sort();
  }
}
