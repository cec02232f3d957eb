/**
 * Decoding of tar headers, shared by the two readers: the index of archive files on disk
 * (tar.ts, which seeks) and the front-to-back reader of image layers as they stream (tar-stream.ts).
 * ustar, PAX (`path`, `size`, `linkpath`) and GNU long names and base-256 numbers.
 */
import { ArchiveError } from './errors.js';

export const BLOCK_SIZE = 512;

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char-device' | 'block-device' | 'fifo' | 'other';

export function typeOf(typeflag: string, name: string): TarEntryType {
  switch (typeflag) {
    case '0':
    case '7': // contiguous file: a regular file to everyone but a few old systems
      return 'file';
    case '\0': // pre-POSIX tar marked directories with a trailing slash only
      return name.endsWith('/') ? 'directory' : 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char-device';
    case '4':
      return 'block-device';
    case '5':
      return 'directory';
    case '6':
      return 'fifo';
    default:
      return 'other';
  }
}

/** Types whose header's size field does not announce data that follows (as Go and GNU tar read them). */
export function hasNoData(type: TarEntryType): boolean {
  return type !== 'file' && type !== 'other';
}

export function cString(b: Buffer, start: number, end: number): string {
  const nul = b.indexOf(0, start);
  return b.toString('utf8', start, nul === -1 || nul > end ? end : nul);
}

export function parseNumber(block: Buffer, offset: number, width: number): number | undefined {
  const first = block[offset]!;
  if (first & 0x80) {
    // GNU base-256: big-endian binary, used by GNU tar for sizes beyond 8 GiB.
    if (first === 0xff) return undefined; // negative
    let value = first & 0x7f;
    for (let i = offset + 1; i < offset + width; i++) {
      value = value * 256 + block[i]!;
      if (value > Number.MAX_SAFE_INTEGER) return undefined;
    }
    return value;
  }
  const text = cString(block, offset, offset + width).trim();
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
}

export function checksumMatches(block: Buffer): boolean {
  const stored = parseNumber(block, 148, 8);
  if (stored === undefined) return false;
  let unsigned = 0;
  let signed = 0; // some historic tars summed signed chars
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

const ZERO_BLOCK = Buffer.alloc(BLOCK_SIZE);

export function isZeroBlock(block: Buffer): boolean {
  return block.equals(ZERO_BLOCK);
}

export interface PaxFields {
  path?: string;
  size?: number;
  linkpath?: string;
  sparse?: boolean;
}

export function parsePax(data: Buffer, where: string): PaxFields {
  const fields: PaxFields = {};
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break; // some writers pad the payload with NULs
    const space = data.indexOf(0x20, pos);
    const length = space === -1 ? NaN : Number(data.toString('ascii', pos, space));
    if (!Number.isSafeInteger(length) || length <= space - pos || pos + length > data.length || data[pos + length - 1] !== 0x0a) {
      throw new ArchiveError(`${where}: malformed PAX extended header`);
    }
    const record = data.toString('utf8', space + 1, pos + length - 1);
    const eq = record.indexOf('=');
    if (eq === -1) throw new ArchiveError(`${where}: malformed PAX record "${record.slice(0, 80)}"`);
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') fields.path = value;
    else if (key === 'linkpath') fields.linkpath = value;
    else if (key === 'size') {
      if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new ArchiveError(`${where}: PAX size "${value.slice(0, 40)}" is not a size`);
      fields.size = Number(value);
    } else if (key.startsWith('GNU.sparse.')) fields.sparse = true;
    pos += length;
  }
  return fields;
}

