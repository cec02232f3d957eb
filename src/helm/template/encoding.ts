/** JSON, YAML and TOML as Helm's template functions read and write them (Go's encoding/json, sigs.k8s.io/yaml). */
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import YAML from 'yaml';
import { formatValue } from './fmt.js';
import { isMap, isNil, sortedKeys, type GoMap } from './values.js';

const JSON_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function jsonString(s: string, escapeHtml: boolean): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (JSON_ESCAPES[ch]) out += JSON_ESCAPES[ch];
    else if (cp < 0x20 || (escapeHtml && (ch === '<' || ch === '>' || ch === '&')) || cp === 0x2028 || cp === 0x2029) {
      out += `\\u${cp.toString(16).padStart(4, '0')}`;
    } else if (cp >= 0xd800 && cp <= 0xdfff) out += '\ufffd';
    else out += ch;
  }
  return `${out}"`;
}

/** Plain data as Go's json.Marshal sees it: structs become their fields, times RFC 3339 strings. */
function toPlain(v: unknown): unknown {
  if (isNil(v)) return null;
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof Date) return v.toISOString().replace('.000Z', 'Z');
  if (typeof v === 'object') {
    const out: GoMap = {};
    for (const [k, x] of Object.entries(v)) if (typeof x !== 'function') out[k] = toPlain(x);
    return out;
  }
  if (typeof v === 'function') throw new Error('json: unsupported type: func');
  return v;
}

/** json.Marshal (sorted keys, HTML escaping unless `raw`), or json.MarshalIndent(v, "", "  "). */
export function goJson(v: unknown, options: { indent?: boolean; raw?: boolean } = {}): string {
  const nl = options.indent ? '\n' : '';
  const write = (x: unknown, depth: number): string => {
    const ind = options.indent ? '  '.repeat(depth + 1) : '';
    const close = options.indent ? '  '.repeat(depth) : '';
    if (x === null) return 'null';
    switch (typeof x) {
      case 'boolean':
        return String(x);
      case 'bigint':
        return x.toString();
      case 'number':
        if (!Number.isFinite(x)) throw new Error(`json: unsupported value: ${formatValue(x)}`);
        return String(x);
      case 'string':
        return jsonString(x, !options.raw);
    }
    if (Array.isArray(x)) {
      if (x.length === 0) return '[]';
      return `[${nl}${x.map((e) => ind + write(e, depth + 1)).join(`,${nl}`)}${nl}${close}]`;
    }
    const m = x as GoMap;
    const keys = sortedKeys(m);
    if (keys.length === 0) return '{}';
    const sep = options.indent ? ': ' : ':';
    return `{${nl}${keys.map((k) => `${ind}${jsonString(k, !options.raw)}${sep}${write(m[k], depth + 1)}`).join(`,${nl}`)}${nl}${close}}`;
  };
  return write(toPlain(v), 0);
}

const YAML_OPTIONS = { version: '1.1', merge: true, uniqueKeys: false, customTags: dropTimestamps } as const;

function dropTimestamps(tags: YAML.Tags): YAML.Tags {
  return tags.filter((t) => (t as { tag?: string }).tag !== 'tag:yaml.org,2002:timestamp');
}

/** Data as it comes out of YAML through JSON (sigs.k8s.io/yaml): string keys, float64 numbers. */
function jsonish(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(jsonish);
  if (v instanceof Map) {
    const out: GoMap = {};
    for (const [k, x] of v) out[typeof k === 'string' ? k : formatValue(jsonish(k))] = jsonish(x);
    return out;
  }
  if (isMap(v)) {
    const out: GoMap = {};
    for (const [k, x] of Object.entries(v)) out[k] = jsonish(x);
    return out;
  }
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return v ?? null;
}

/**
 * Parses YAML the way Helm reads values and `fromYaml` text (sigs.k8s.io/yaml: YAML 1.1 scalars
 * such as `yes`/`on`, merge keys, timestamps kept as strings, numbers as float64). Only the first
 * document counts; an empty text is null.
 */
export function parseHelmYaml(text: string): unknown {
  const docs = YAML.parseAllDocuments(text, YAML_OPTIONS);
  const doc = Array.isArray(docs) ? docs[0] : docs;
  if (!doc) return null;
  if (doc.errors.length > 0) throw new Error(`error converting YAML to JSON: ${doc.errors[0]!.message.split('\n')[0]}`);
  return jsonish(doc.toJS({ mapAsMap: true }));
}

/** sigs.k8s.io/yaml Marshal (via JSON: sorted keys), without the trailing newline as Helm's toYaml. */
export function toYaml(v: unknown): string {
  const plain = JSON.parse(goJson(v, { raw: true })) as unknown;
  const text = YAML.stringify(plain, { version: '1.1', indentSeq: false, sortMapEntries: true, lineWidth: 0, aliasDuplicateObjects: false });
  return text.replace(/\n$/, '');
}

/** Helm's toYamlPretty: sequences indented under their key. */
export function toYamlPretty(v: unknown): string {
  const plain = JSON.parse(goJson(v, { raw: true })) as unknown;
  const text = YAML.stringify(plain, { version: '1.1', indentSeq: true, sortMapEntries: true, lineWidth: 0, aliasDuplicateObjects: false });
  return text.replace(/\n$/, '');
}

const typeWord = (v: unknown): string => (Array.isArray(v) ? 'array' : isMap(v) ? 'object' : v === null ? 'null' : typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'bool' : 'number');

/** Helm's fromYaml: a map, or `{Error: message}` when the text is not a YAML mapping. */
export function fromYaml(text: string): GoMap {
  try {
    const v = parseHelmYaml(text);
    if (v === null) return {};
    if (!isMap(v)) return { Error: `error unmarshaling JSON: json: cannot unmarshal ${typeWord(v)} into Go value of type map[string]interface {}` };
    return v;
  } catch (err) {
    return { Error: (err as Error).message };
  }
}

/** Helm's fromYamlArray: a list, or a list holding the error message. */
export function fromYamlArray(text: string): unknown[] {
  try {
    const v = parseHelmYaml(text);
    if (v === null) return [];
    if (!Array.isArray(v)) return [`error unmarshaling JSON: json: cannot unmarshal ${typeWord(v)} into Go value of type []interface {}`];
    return v;
  } catch (err) {
    return [(err as Error).message];
  }
}

function parseJson(text: string): { value?: unknown; error?: string } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Helm's fromJson: a map, or `{Error: message}`. */
export function fromJson(text: string): GoMap {
  const { value, error } = parseJson(text);
  if (error !== undefined) return { Error: error };
  if (value === null) return {};
  if (!isMap(value)) return { Error: `json: cannot unmarshal ${typeWord(value)} into Go value of type map[string]interface {}` };
  return value;
}

/** Helm's fromJsonArray: a list, or a list holding the error message. */
export function fromJsonArray(text: string): unknown[] {
  const { value, error } = parseJson(text);
  if (error !== undefined) return [error];
  if (value === null) return [];
  if (!Array.isArray(value)) return [`json: cannot unmarshal ${typeWord(value)} into Go value of type []interface {}`];
  return value;
}

/** Helm's toToml: the TOML of a map, or the error text. */
export function toToml(v: unknown): string {
  try {
    return stringifyToml(JSON.parse(goJson(v, { raw: true })) as Record<string, unknown>);
  } catch (err) {
    return (err as Error).message;
  }
}

/** Helm's fromToml: a map, or `{Error: message}`. */
export function fromToml(text: string): GoMap {
  try {
    return jsonish(JSON.parse(JSON.stringify(parseToml(text)))) as GoMap;
  } catch (err) {
    return { Error: (err as Error).message };
  }
}
