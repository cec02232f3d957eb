/**
 * Reads a tar stream front to back (an image layer as it arrives), for the few files a collector
 * needs from an image: entries are visited in order, the data of each is read only when the
 * visitor asks for it, and the reading stops as soon as the visitor says so. Understands ustar,
 * PAX (`path`, `size`) and GNU long names, as image layers are written with all three.
 * (archive/tar.ts indexes tar files on disk by seeking; a layer stream cannot seek.)
 */
import { OcMirrorError } from '../errors.js';

const BLOCK = 512;
/** PAX and long-name payloads are a few hundred bytes; more means a hostile layer. */
const MAX_HEADER_DATA = 1024 * 1024;

export type TarStreamEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface TarStreamEntry {
  /** normalised: no leading `./` or `/` */
  name: string;
  type: TarStreamEntryType;
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
  let pax: { path?: string; size?: number } = {};
  let longName: string | undefined;
  for (;;) {
    const header = await reader.read(BLOCK);
    if (!header) return false; // a layer cut right after an entry: digest verification reports it
    if (header.length < BLOCK) throw new OcMirrorError(`${what}: the layer ends in the middle of a tar header`);
    if (header.every((b) => b === 0)) return false;
    if (!checksumOk(header)) throw new OcMirrorError(`${what}: invalid tar header (the layer is not a tar archive, or is corrupt)`);
    const typeflag = String.fromCharCode(header[156]!);
    let name = cString(header, 0, 100);
    if (header.toString('latin1', 257, 263) === 'ustar\0') {
      const prefix = cString(header, 345, 500);
      if (prefix) name = `${prefix}/${name}`;
    }
    const headerSize = octal(header, 124, 12, what);
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L') {
      if (headerSize > MAX_HEADER_DATA) throw new OcMirrorError(`${what}: tar extended header of ${headerSize} bytes`);
      const data = await reader.readExactly(headerSize + padding(headerSize), what);
      const body = data.subarray(0, headerSize);
      if (typeflag === 'x') pax = { ...pax, ...parsePax(body, what) };
      else if (typeflag === 'L') longName = cString(body, 0, body.length);
      continue;
    }
    const type = typeOf(typeflag, name);
    const size = type === 'file' || type === 'other' ? (pax.size ?? headerSize) : 0;
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

function typeOf(typeflag: string, name: string): TarStreamEntryType {
  switch (typeflag) {
    case '0':
    case '7':
      return 'file';
    case '\0':
      return name.endsWith('/') ? 'directory' : 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '5':
      return 'directory';
    default:
      return 'other';
  }
}

function cString(b: Buffer, start: number, end: number): string {
  const nul = b.indexOf(0, start);
  return b.toString('utf8', start, nul === -1 || nul > end ? end : nul);
}

function octal(b: Buffer, offset: number, width: number, what: string): number {
  if (b[offset]! & 0x80) {
    // GNU base-256 for sizes beyond 8 GiB
    let value = 0;
    for (let i = offset + 1; i < offset + width; i++) value = value * 256 + b[i]!;
    return value;
  }
  const text = cString(b, offset, offset + width).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new OcMirrorError(`${what}: invalid tar header field "${text.slice(0, 20)}"`);
  return parseInt(text, 8);
}

function checksumOk(header: Buffer): boolean {
  const stored = cString(header, 148, 156).trim();
  if (!/^[0-7]+$/.test(stored)) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return parseInt(stored, 8) === sum;
}

function parsePax(data: Buffer, what: string): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  let pos = 0;
  while (pos < data.length && data[pos] !== 0) {
    const space = data.indexOf(0x20, pos);
    const length = space === -1 ? NaN : Number(data.toString('ascii', pos, space));
    if (!Number.isSafeInteger(length) || length <= space - pos || pos + length > data.length) throw new OcMirrorError(`${what}: malformed PAX header`);
    const record = data.toString('utf8', space + 1, pos + length - 1);
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') out.path = value;
    else if (key === 'size') {
      if (!/^\d+$/.test(value)) throw new OcMirrorError(`${what}: PAX size "${value.slice(0, 20)}" is not a size`);
      out.size = Number(value);
    }
    pos += length;
  }
  return out;
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
