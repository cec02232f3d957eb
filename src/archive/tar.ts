/**
 * A minimal tar codec, just what mirror archives need.
 *
 * Writing: ustar headers for regular files and directories, plus a PAX extended header when a
 * name does not fit ustar's name/prefix fields (or is not plain ASCII) or a size does not fit its
 * 11 octal digits. Every header field is derived from the name, the size and a caller-given mtime,
 * so the same input always gives the same bytes, and `tarEntrySize` predicts the bytes exactly.
 *
 * Reading: an index of the entries (name, type, where the data starts, how long it is) built from
 * the headers alone, jumping over file data. It understands ustar, PAX (`path`, `size`,
 * `linkpath`) and GNU long names (`././@LongLink`, types L and K), since GNU tar and Go's
 * archive/tar (which oc-mirror uses) both write those. Deciding what is acceptable (links,
 * devices, `..`) is the archive reader's business: the index reports every entry as it is.
 */
import type { FileHandle } from 'node:fs/promises';
import { ArchiveError } from './errors.js';
import { BLOCK_SIZE, checksumMatches, cString, hasNoData, isZeroBlock, parseNumber, parsePax, typeOf, type PaxFields, type TarEntryType } from './tar-header.js';

export { BLOCK_SIZE };
/** Two zero blocks close an archive. We write no record padding beyond them (as Go's archive/tar). */
export const END_OF_ARCHIVE_BYTES = 2 * BLOCK_SIZE;
/** The largest size ustar's 11 octal digits hold: 8 GiB - 1. */
const MAX_USTAR_SIZE = 0o77777777777;
const NAME_FIELD = 100;
const PREFIX_FIELD = 155;
const FILE_MODE = 0o644;
const DIRECTORY_MODE = 0o755;
/** PAX and GNU long-name payloads are a few hundred bytes; a megabyte means a hostile archive. */
const MAX_METADATA_BYTES = 1024 * 1024;

export function paddingFor(size: number): number {
  return (BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE;
}

export type TarEntryKind = 'file' | 'directory';

/** Bytes one entry takes in an archive: its header(s), its data and the padding after the data. */
export function tarEntrySize(name: string, size: number, kind: TarEntryKind = 'file'): number {
  const layout = headerLayout(kind === 'directory' ? directoryName(name) : name, kind === 'directory' ? 0 : size);
  const pax = layout.pax ? BLOCK_SIZE + layout.pax.length + paddingFor(layout.pax.length) : 0;
  return pax + BLOCK_SIZE + size + paddingFor(size);
}

// ---------------------------------------------------------------------------------------------
// Writing

function directoryName(name: string): string {
  return name.endsWith('/') ? name : `${name}/`;
}

/** ustar fields hold bytes without an encoding: anything but printable ASCII goes through PAX. */
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

interface HeaderLayout {
  name: string;
  prefix: string;
  /** the ustar size field; 0 when the real size is in the PAX header */
  sizeField: number;
  /** PAX extended header data, when ustar cannot express the entry */
  pax?: Buffer;
}

function splitForUstar(name: string): { name: string; prefix: string } | undefined {
  if (!PLAIN_ASCII.test(name)) return undefined;
  if (name.length <= NAME_FIELD) return { name, prefix: '' };
  // The prefix and the name are joined by a '/' that is in neither field.
  const first = Math.max(1, name.length - NAME_FIELD - 1);
  const last = Math.min(PREFIX_FIELD, name.length - 2);
  for (let i = first; i <= last; i++) {
    if (name[i] === '/') return { name: name.slice(i + 1), prefix: name.slice(0, i) };
  }
  return undefined;
}

/** One `"<len> <key>=<value>\n"` record, where len counts its own digits too. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyBytes = Buffer.byteLength(body);
  let length = bodyBytes;
  while (length !== bodyBytes + String(length).length) length = bodyBytes + String(length).length;
  return `${length}${body}`;
}

function headerLayout(name: string, size: number): HeaderLayout {
  const split = splitForUstar(name);
  const sizeFits = size <= MAX_USTAR_SIZE;
  if (split && sizeFits) return { ...split, sizeField: size };
  let records = '';
  if (!split) records += paxRecord('path', name);
  if (!sizeFits) records += paxRecord('size', String(size));
  // Readers that ignore PAX still get a recognisable (if cut) name.
  const fallback = split ?? { name: asciiTail(name, NAME_FIELD), prefix: '' };
  return { ...fallback, sizeField: sizeFits ? size : 0, pax: Buffer.from(records, 'utf8') };
}

function asciiTail(name: string, max: number): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_');
  return ascii.length <= max ? ascii : ascii.slice(ascii.length - max);
}

function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  const digits = value.toString(8).padStart(width - 1, '0');
  if (digits.length > width - 1) throw new ArchiveError(`tar field at ${offset} cannot hold ${value}`);
  block.write(digits, offset, 'ascii'); // the last byte stays NUL
}

function encodeHeader(fields: { name: string; prefix: string; mode: number; size: number; mtime: number; typeflag: string }): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  block.write(fields.name, 0, NAME_FIELD, 'ascii');
  writeOctal(block, 100, 8, fields.mode);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, fields.mtime);
  block.write(fields.typeflag, 156, 1, 'ascii');
  block.write('ustar\0', 257, 6, 'ascii');
  block.write('00', 263, 2, 'ascii');
  block.write(fields.prefix, 345, PREFIX_FIELD, 'ascii');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return block;
}

function headersFor(name: string, size: number, kind: TarEntryKind, mtime: number): Buffer[] {
  const layout = headerLayout(name, size);
  const mode = kind === 'directory' ? DIRECTORY_MODE : FILE_MODE;
  const main = encodeHeader({ name: layout.name, prefix: layout.prefix, mode, size: layout.sizeField, mtime, typeflag: kind === 'directory' ? '5' : '0' });
  if (!layout.pax) return [main];
  const paxName = `PaxHeaders.0/${asciiTail(name.replace(/\/+$/, '').split('/').pop() ?? '', NAME_FIELD - 13)}`;
  const paxHeader = encodeHeader({ name: paxName, prefix: '', mode: FILE_MODE, size: layout.pax.length, mtime, typeflag: 'x' });
  return [paxHeader, layout.pax, Buffer.alloc(paddingFor(layout.pax.length)), main];
}

/** The header block(s) of a regular file entry, as `TarWriter` writes them: what precedes its data. */
export function fileHeaderBytes(name: string, size: number, mtime: Date): Buffer {
  return Buffer.concat(headersFor(name, size, 'file', tarSeconds(mtime)));
}

/** An mtime as the whole seconds a header holds; refused when the header cannot hold it. */
function tarSeconds(mtime: Date): number {
  const seconds = Math.floor(mtime.getTime() / 1000);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_USTAR_SIZE) throw new ArchiveError(`tar mtime ${String(mtime)} is out of range`);
  return seconds;
}

/** A stream's chunk as bytes: object-mode streams may yield strings, whose length is not their size in bytes. */
export function chunkBytes(chunk: Uint8Array | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
}

/** Chunks are gathered up to this many bytes (or buffers) per write system call. */
const FLUSH_BYTES = 1024 * 1024;
const FLUSH_BUFFERS = 256;

/**
 * Writes a tar stream sequentially to an open file. File data comes from a stream and is never
 * held beyond one flush; the writer counts every byte so the result can be checked against
 * `tarEntrySize`, and refuses a stream that yields more or fewer bytes than announced.
 */
export class TarWriter {
  private written = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly mtime: number;

  constructor(
    private readonly file: FileHandle,
    mtime: Date,
    /** told after every write with the bytes just written */
    private readonly onBytes?: (n: number) => void,
  ) {
    this.mtime = tarSeconds(mtime);
  }

  /** Bytes written so far, including anything still gathered for the next write. */
  get bytesWritten(): number {
    return this.written + this.pendingBytes;
  }

  async addDirectory(name: string): Promise<void> {
    for (const b of headersFor(directoryName(name), 0, 'directory', this.mtime)) await this.push(b);
  }

  async addFile(name: string, size: number, data: AsyncIterable<Uint8Array | string>): Promise<void> {
    if (!Number.isSafeInteger(size) || size < 0) throw new ArchiveError(`entry "${name}": invalid size ${size}`);
    for (const b of headersFor(name, size, 'file', this.mtime)) await this.push(b);
    let seen = 0;
    for await (const chunk of data) {
      const bytes = chunkBytes(chunk);
      seen += bytes.length;
      if (seen > size) throw new ArchiveError(`entry "${name}": its content is longer than the ${size} bytes announced`);
      await this.push(bytes);
    }
    if (seen !== size) throw new ArchiveError(`entry "${name}": its content has ${seen} of the ${size} bytes announced`);
    await this.push(Buffer.alloc(paddingFor(size)));
  }

  /** Writes the end-of-archive blocks and everything still gathered. */
  async finish(): Promise<void> {
    await this.push(Buffer.alloc(END_OF_ARCHIVE_BYTES));
    await this.flush();
  }

  private async push(b: Buffer): Promise<void> {
    if (b.length === 0) return;
    this.pending.push(b);
    this.pendingBytes += b.length;
    if (this.pendingBytes >= FLUSH_BYTES || this.pending.length >= FLUSH_BUFFERS) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const buffers = this.pending;
    const expected = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const { bytesWritten } = await this.file.writev(buffers);
    if (bytesWritten !== expected) throw new ArchiveError(`short write: ${bytesWritten} of ${expected} bytes`);
    this.written += expected;
    this.onBytes?.(expected);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

/** What a header says an entry is; reading and refusing are left to the caller. */
export type { TarEntryType };

export interface TarEntry {
  /** the name as stored (PAX path or GNU long name when present), not normalised */
  name: string;
  type: TarEntryType;
  /** the raw typeflag, for messages about 'other' */
  typeflag: string;
  /** byte offset of the entry's data in the file */
  offset: number;
  /** bytes of data */
  size: number;
  /** target of a link, when the entry is one */
  linkName?: string;
}

/**
 * Serves reads of a file through a small window, so a run of tiny entries (registry link files,
 * a few dozen bytes each) costs one read per window instead of one per header, while the data of
 * large entries is jumped over and never read.
 */
class WindowedReader {
  private window = Buffer.alloc(0);
  private windowStart = 0;
  private static readonly WINDOW = 64 * 1024;

  constructor(private readonly file: FileHandle) {}

  async read(offset: number, length: number): Promise<Buffer> {
    if (offset >= this.windowStart && offset + length <= this.windowStart + this.window.length) {
      return this.window.subarray(offset - this.windowStart, offset - this.windowStart + length);
    }
    const buffer = Buffer.alloc(Math.max(length, WindowedReader.WINDOW));
    const { bytesRead } = await this.file.read(buffer, 0, buffer.length, offset);
    this.window = buffer.subarray(0, bytesRead);
    this.windowStart = offset;
    return this.window.subarray(0, Math.min(length, bytesRead));
  }
}

/**
 * Lists the entries of a tar file from its headers. `label` names the file in messages.
 * Throws ArchiveError on a header that is not tar, on metadata that does not parse, and on an
 * entry whose data would run past the end of the file (a truncated archive).
 */
export async function readTarIndex(file: FileHandle, label: string): Promise<TarEntry[]> {
  const fileSize = (await file.stat()).size;
  const reader = new WindowedReader(file);
  const entries: TarEntry[] = [];
  let pax: PaxFields | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  let offset = 0;

  for (;;) {
    if (offset >= fileSize && (pax || longName !== undefined || longLink !== undefined)) {
      throw new ArchiveError(`archive "${label}" is truncated: it ends after an extended header, before the entry it describes`);
    }
    if (offset >= fileSize) {
      // Every writer we read (ours, Go's archive/tar under oc-mirror, GNU tar) ends with zero
      // blocks; a file that stops on an entry boundary without them was cut short in transfer.
      throw new ArchiveError(`archive "${label}" is truncated: it ends at offset ${offset} without the end-of-archive blocks`);
    }
    if (fileSize - offset < BLOCK_SIZE) {
      throw new ArchiveError(`archive "${label}" is truncated: a header at offset ${offset} is cut by the end of the file`);
    }
    const header = await reader.read(offset, BLOCK_SIZE);
    if (isZeroBlock(header)) break;
    if (!checksumMatches(header)) throw new ArchiveError(`archive "${label}": invalid tar header at offset ${offset} (not a tar file, or corrupt)`);

    const typeflag = String.fromCharCode(header[156]!);
    const magic = header.toString('latin1', 257, 263);
    let name = cString(header, 0, NAME_FIELD);
    // Only POSIX ustar has a prefix field; old GNU headers keep access times there.
    if (magic === 'ustar\0') {
      const prefix = cString(header, 345, 345 + PREFIX_FIELD);
      if (prefix) name = `${prefix}/${name}`;
    }
    const headerSize = parseNumber(header, 124, 12);
    if (headerSize === undefined) throw new ArchiveError(`archive "${label}": entry "${name}" has an invalid size field`);
    const dataOffset = offset + BLOCK_SIZE;

    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      const what = typeflag === 'x' || typeflag === 'g' ? 'PAX header' : 'GNU long name';
      if (headerSize > MAX_METADATA_BYTES) throw new ArchiveError(`archive "${label}": ${what} at offset ${offset} announces ${headerSize} bytes`);
      if (dataOffset + headerSize > fileSize) throw new ArchiveError(`archive "${label}" is truncated: the ${what} at offset ${offset} runs past the end of the file`);
      const data = Buffer.from(await reader.read(dataOffset, headerSize));
      const where = `archive "${label}", offset ${offset}`;
      if (typeflag === 'x') pax = { ...pax, ...parsePax(data, where) };
      else if (typeflag === 'g') parsePax(data, where); // global defaults: nothing we use, but it must parse
      else if (typeflag === 'L') longName = cString(data, 0, data.length);
      else longLink = cString(data, 0, data.length);
      offset = dataOffset + headerSize + paddingFor(headerSize);
      continue;
    }

    const fullName = pax?.path ?? longName ?? name;
    const type = pax?.sparse ? 'other' : typeOf(typeflag, fullName);
    const size = hasNoData(type) ? 0 : (pax?.size ?? headerSize);
    const linkName = pax?.linkpath ?? longLink ?? cString(header, 157, 257);
    if (dataOffset + size > fileSize) {
      throw new ArchiveError(`archive "${label}" is truncated: entry "${fullName}" needs ${size} bytes from offset ${dataOffset} but the file ends at ${fileSize}`);
    }
    entries.push({ name: fullName, type, typeflag, offset: dataOffset, size, ...(linkName ? { linkName } : {}) });
    pax = undefined;
    longName = undefined;
    longLink = undefined;
    offset = dataOffset + size + paddingFor(size);
  }
  if (pax || longName !== undefined || longLink !== undefined) {
    throw new ArchiveError(`archive "${label}" is truncated: it ends after an extended header, before the entry it describes`);
  }
  return entries;
}
