/**
 * Reads a tar stream front to back (an image layer as it arrives), for the few files a collector
 * needs from an image: entries are visited in order, the data of each is read only when the
 * visitor asks for it, and the reading stops as soon as the visitor says so. Understands ustar,
 * PAX (`path`, `size`) and GNU long names, as image layers are written with all three.
 * (tar.ts indexes tar files on disk by seeking; a layer stream cannot seek. Both decode headers with tar-header.ts.)
 */
import { OcMirrorError } from '../errors.js';
import { checksumMatches, cString, hasNoData, parseNumber, parsePax, typeOf, type PaxFields, type TarEntryType } from './tar-header.js';

const BLOCK = 512;
/** PAX and long-name payloads are a few hundred bytes; more means a hostile layer. */
const MAX_HEADER_DATA = 1024 * 1024;


export interface TarStreamEntry {
  /** normalised: no leading `./` or `/` */
  name: string;
  type: TarEntryType;
  size: number;
}

/** What a visitor returns: `read` the entry's data (up to a limit), `skip` it, or `stop` reading the stream. */
export type TarVisit = 'skip' | 'stop' | { read: number };

/**
 * Calls `visit` for each entry; when it returns `{ read: max }` the entry's data is handed to
 * `onData` (an entry larger than `max` is an error). Returns true when the visitor stopped the
 * reading, false at the end of the archive. `what` names the stream in errors.
 */
export async function scanTar(
  chunks: AsyncIterable<Buffer>,
  what: string,
  visit: (entry: TarStreamEntry) => TarVisit | Promise<TarVisit>,
  onData: (entry: TarStreamEntry, data: Buffer) => TarVisit | void | Promise<TarVisit | void>,
): Promise<boolean> {
  const reader = new ChunkReader(chunks[Symbol.asyncIterator]());
  let pax: PaxFields = {};
  let longName: string | undefined;
  for (;;) {
    const header = await reader.read(BLOCK);
    if (!header) return false; // a layer cut right after an entry: digest verification reports it
    if (header.length < BLOCK) throw new OcMirrorError(`${what}: the layer ends in the middle of a tar header`);
    if (header.every((b) => b === 0)) return false;
    if (!checksumMatches(header)) throw new OcMirrorError(`${what}: invalid tar header (the layer is not a tar archive, or is corrupt)`);
    const typeflag = String.fromCharCode(header[156]!);
    let name = cString(header, 0, 100);
    if (header.toString('latin1', 257, 263) === 'ustar\0') {
      const prefix = cString(header, 345, 500);
      if (prefix) name = `${prefix}/${name}`;
    }
    const headerSize = number(header, 124, 12, what);
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L') {
      if (headerSize > MAX_HEADER_DATA) throw new OcMirrorError(`${what}: tar extended header of ${headerSize} bytes`);
      const data = await reader.readExactly(headerSize + padding(headerSize), what);
      const body = data.subarray(0, headerSize);
      if (typeflag === 'x') pax = { ...pax, ...parsePax(body, what) };
      else if (typeflag === 'L') longName = cString(body, 0, body.length);
      continue;
    }
    const type = typeOf(typeflag, name);
    const size = hasNoData(type) ? 0 : (pax.size ?? headerSize);
    const entry: TarStreamEntry = { name: normalise(pax.path ?? longName ?? name), type, size };
    pax = {};
    longName = undefined;
    const decision = await visit(entry);
    if (decision === 'stop') return true;
    if (decision === 'skip') {
      await reader.skip(size + padding(size), what);
      continue;
    }
    if (size > decision.read) throw new OcMirrorError(`${what}: ${entry.name} is ${size} bytes, more than the ${decision.read} expected`);
    const data = await reader.readExactly(size + padding(size), what);
    if ((await onData(entry, data.subarray(0, size))) === 'stop') return true;
  }
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function normalise(name: string): string {
  return name.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
}

function number(header: Buffer, offset: number, width: number, what: string): number {
  const value = parseNumber(header, offset, width);
  if (value === undefined) throw new OcMirrorError(`${what}: invalid tar header field at offset ${offset}`);
  return value;
}

/** Pull-style reads of exact byte counts over a stream of chunks. */
class ChunkReader {
  private buffered: Buffer[] = [];
  private available = 0;
  private done = false;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<void> {
    while (this.available < n && !this.done) {
      const next = await this.source.next();
      if (next.done) {
        this.done = true;
        break;
      }
      const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
      this.buffered.push(chunk);
      this.available += chunk.length;
    }
  }

  /** n bytes, or undefined when the stream ended before any of them. */
  async read(n: number): Promise<Buffer | undefined> {
    await this.fill(n);
    if (this.available === 0) return undefined;
    return this.take(Math.min(n, this.available));
  }

  async readExactly(n: number, what: string): Promise<Buffer> {
    await this.fill(n);
    if (this.available < n) throw new OcMirrorError(`${what}: the layer ends in the middle of a tar entry`);
    return this.take(n);
  }

  /** Drops n bytes without holding more than one chunk of them. */
  async skip(n: number, what: string): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.available === 0) await this.fill(1);
      if (this.available === 0) throw new OcMirrorError(`${what}: the layer ends in the middle of a tar entry`);
      const step = Math.min(left, this.available);
      this.take(step);
      left -= step;
    }
  }

  private take(n: number): Buffer {
    const joined = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    const out = joined.subarray(0, n);
    const rest = joined.subarray(n);
    this.buffered = rest.length ? [rest] : [];
    this.available = rest.length;
    return out;
  }
}
