/**
 * Reads the objects of one file-based-catalog file. JSON files are streams of concatenated
 * values (what `opm render` writes: objects one after the other, with or without whitespace);
 * YAML files are multi-document streams. Each object is handed over as soon as it is parsed so
 * that the caller can drop what it does not keep before the next one is read.
 */
import { parseAllDocuments } from 'yaml';
import { OcMirrorError } from '../errors.js';

/** A catalog file that does not parse or holds something that is not a catalog object. */
export class CatalogParseError extends OcMirrorError {
  override name = 'CatalogParseError';
}

export type FbcFileKind = 'json' | 'yaml';

/** json, yaml, or undefined for files the catalog format ignores (by extension, as opm does). */
export function fbcFileKind(path: string): FbcFileKind | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  return undefined;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/**
 * The objects of a JSON stream, in order. Values are delimited by scanning brackets outside
 * strings; string bodies (where the bulk of a catalog's bytes sit: embedded CSVs) are skipped
 * with indexOf rather than byte by byte.
 */
export function* jsonStreamObjects(path: string, content: Buffer): Generator<Record<string, unknown>> {
  let pos = skipSpace(content, 0);
  let index = 0;
  while (pos < content.length) {
    const first = content[pos]!;
    if (first !== OPEN_BRACE) {
      throw new CatalogParseError(`${path}: byte ${pos}: expected a JSON object, found ${describeByte(first)}`);
    }
    const end = endOfValue(path, content, pos);
    let value: unknown;
    try {
      value = JSON.parse(content.toString('utf8', pos, end));
    } catch (err) {
      throw new CatalogParseError(`${path}: object ${index + 1} (byte ${pos}): ${(err as Error).message}`);
    }
    yield value as Record<string, unknown>;
    index++;
    pos = skipSpace(content, end);
  }
}

function skipSpace(content: Buffer, from: number): number {
  let pos = from;
  while (pos < content.length && isSpace(content[pos]!)) pos++;
  return pos;
}

function describeByte(byte: number): string {
  return byte >= 0x20 && byte < 0x7f ? `"${String.fromCharCode(byte)}"` : `byte 0x${byte.toString(16)}`;
}

/** The offset just after the object or array starting at `start`. */
function endOfValue(path: string, content: Buffer, start: number): number {
  let depth = 0;
  let pos = start;
  while (pos < content.length) {
    const byte = content[pos]!;
    if (byte === QUOTE) {
      pos = endOfString(path, content, pos);
      continue;
    }
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
    else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return pos + 1;
    }
    pos++;
  }
  throw new CatalogParseError(`${path}: the JSON object starting at byte ${start} is not closed`);
}

/** The offset just after the closing quote of the string whose opening quote is at `start`. */
function endOfString(path: string, content: Buffer, start: number): number {
  let pos = start + 1;
  for (;;) {
    const quote = content.indexOf(QUOTE, pos);
    if (quote === -1) throw new CatalogParseError(`${path}: the JSON string starting at byte ${start} is not closed`);
    // A quote preceded by an odd number of backslashes is escaped.
    let backslashes = 0;
    while (content[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    pos = quote + 1;
  }
}

/** The documents of a YAML stream; empty documents are skipped. */
export function* yamlStreamObjects(path: string, content: Buffer): Generator<Record<string, unknown>> {
  const documents = parseAllDocuments(content.toString('utf8'), { uniqueKeys: false });
  // parseAllDocuments returns an EmptyStream (an array with an `empty` flag) for blank files.
  let index = 0;
  for (const doc of documents) {
    index++;
    const problem = doc.errors[0];
    if (problem) throw new CatalogParseError(`${path}: document ${index}: ${problem.message.split('\n')[0]}`);
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new CatalogParseError(`${path}: document ${index}: expected a mapping, found ${Array.isArray(value) ? 'a list' : typeof value}`);
    }
    yield value as Record<string, unknown>;
  }
}

export function fbcObjects(path: string, kind: FbcFileKind, content: Buffer): Iterable<Record<string, unknown>> {
  return kind === 'json' ? jsonStreamObjects(path, content) : yamlStreamObjects(path, content);
}
