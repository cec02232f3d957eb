/**
 * containers-registries.conf(5), version 2: where an image may be pulled from other than the
 * registry its name says. This is oc-mirror's enclave mechanism (ref §13.1): the
 * ImageSetConfiguration keeps `registry.redhat.io/...` names while the bytes come from an
 * internal registry. It only ever redirects SOURCE pulls; destinations, IDMS/ITMS and reports keep
 * the original names.
 *
 * The rules follow containers/image (`pkg/sysregistriesv2`) so that a file that works with
 * oc-mirror, skopeo or podman works here; the few deliberate differences say why where they are.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { errorMessage, OcMirrorError } from '../errors.js';
import { formatReference, parseReference, parseRegistryLocation, repositoryName, type ImageReference } from '../image/reference.js';

/** Which references a mirror may serve (`pull-from-mirror`). */
export type PullFromMirror = 'all' | 'digest-only' | 'tag-only';

export interface MirrorEndpoint {
  /** `host[:port][/path]` that replaces the matched prefix */
  location: string;
  /** TLS verification off (and plain HTTP allowed) for this mirror */
  insecure: boolean;
  pullFromMirror: PullFromMirror;
}

/** One `[[registry]]` table, after defaults and validation. */
export interface RegistryRule {
  /** `host[:port][/path]`, or `*.domain` for every subdomain */
  prefix: string;
  /** the primary location; empty only for a wildcard prefix (then the name is used as it is) */
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrorByDigestOnly: boolean;
  mirrors: MirrorEndpoint[];
  /** the file that defined it, for messages */
  file: string;
}

/** A setting we read and deliberately do nothing with. */
export interface IgnoredSetting {
  file: string;
  key: string;
  reason: string;
  /** not a registries.conf key at all (a typo?): worth a warning rather than a debug line */
  unknown: boolean;
}

export interface RegistriesConf {
  /** files read, in the order they were applied (main file, then drop-ins); empty when none exists */
  files: string[];
  /** sorted by prefix, one per prefix */
  rules: RegistryRule[];
  ignored: IgnoredSetting[];
}

/** One place to try for an image: the reference rewritten for that place. */
export interface PullSource extends ImageReference {
  /** TLS verification off (and plain HTTP allowed) for this source, on top of --src-tls-verify */
  insecure: boolean;
  /** a `[[registry.mirror]]`, not the primary location */
  mirror: boolean;
}

/** The file cannot be read, is not TOML, or is not a valid registries.conf v2. */
export class RegistriesConfError extends OcMirrorError {
  override name = 'RegistriesConfError';
}

/** The image's registry is `blocked = true`. */
export class RegistryBlockedError extends OcMirrorError {
  override name = 'RegistryBlockedError';
  constructor(
    readonly reference: string,
    readonly prefix: string,
    readonly file: string,
    detail = '',
  ) {
    super(`${reference}: registry ${prefix} is blocked in ${file}${detail}`);
  }
}

export const SYSTEM_REGISTRIES_CONF = '/etc/containers/registries.conf';
const USER_REGISTRIES_CONF = join('.config', 'containers', 'registries.conf');
const DROP_IN_DIR = 'registries.conf.d';

// ---------------------------------------------------------------------------------------------
// Locating the files

export interface RegistriesConfLocation {
  /** the main file; undefined when none exists */
  file?: string;
  /** drop-in directories, read in this order (missing ones are skipped) */
  dropInDirs: string[];
}

/**
 * Which file, and which drop-in directories. An explicit path (a future `--registries-conf`) or
 * `$CONTAINERS_REGISTRIES_CONF` must exist: the user named that file, and quietly using another
 * one (or none) would send pulls where they did not intend. Otherwise the per-user file, else the
 * system file, as containers/image chooses.
 */
export function locateRegistriesConf(
  explicitPath?: string,
  env: NodeJS.ProcessEnv = process.env,
  systemFile = SYSTEM_REGISTRIES_CONF,
): RegistriesConfLocation {
  const userDropIns = join(env.HOME || homedir(), USER_REGISTRIES_CONF + '.d');
  const fromEnv = env.CONTAINERS_REGISTRIES_CONF;
  const named = explicitPath
    ? { path: explicitPath, what: explicitPath }
    : fromEnv
      ? { path: fromEnv, what: `CONTAINERS_REGISTRIES_CONF=${fromEnv}` }
      : undefined;
  if (named) {
    if (!isFile(named.path)) throw new RegistriesConfError(`${named.what}: no such registries.conf file`);
    // Only the directory next to a named file: the host's drop-ins would make the result depend
    // on the machine (containers/image would also read /etc/containers/registries.conf.d).
    return { file: named.path, dropInDirs: [join(dirname(named.path), DROP_IN_DIR)] };
  }
  const userFile = join(env.HOME || homedir(), USER_REGISTRIES_CONF);
  // A per-user file replaces the system configuration entirely, drop-ins included.
  if (isFile(userFile)) return { file: userFile, dropInDirs: [userDropIns] };
  const systemDropIns = join(dirname(systemFile), DROP_IN_DIR);
  // Users may add to the system configuration with their own drop-ins, which come last. Without
  // any main file the drop-ins still apply, as in containers/image.
  return { ...(isFile(systemFile) && { file: systemFile }), dropInDirs: [systemDropIns, userDropIns] };
}

/**
 * Reads the registries.conf in effect (see locateRegistriesConf), then the `*.conf` drop-ins:
 * an entry of a later file replaces the one with the same prefix, as in containers/image.
 * No file at all gives an empty configuration: every image is pulled from where its name says.
 */
export function loadRegistriesConf(explicitPath?: string, env: NodeJS.ProcessEnv = process.env, systemFile = SYSTEM_REGISTRIES_CONF): RegistriesConf {
  const location = locateRegistriesConf(explicitPath, env, systemFile);
  const files = [...(location.file ? [location.file] : []), ...location.dropInDirs.flatMap(dropInFiles)];
  const byPrefix = new Map<string, RegistryRule>();
  const ignored: IgnoredSetting[] = [];
  for (const file of files) {
    const parsed = parseRegistriesConf(readText(file), file);
    for (const rule of parsed.rules) byPrefix.set(rule.prefix, rule);
    ignored.push(...parsed.ignored);
  }
  return { files, rules: sortedByPrefix([...byPrefix.values()]), ignored };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new RegistriesConfError(`${file}: cannot read: ${errorMessage(err)}`);
  }
}

/** `*.conf` files of one directory, by name; a missing directory is normal. */
function dropInFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT' || (err as { code?: string }).code === 'ENOTDIR') return [];
    throw new RegistriesConfError(`${dir}: cannot read the drop-in directory: ${errorMessage(err)}`);
  }
  return names
    .filter((n) => n.endsWith('.conf'))
    .sort()
    .map((n) => join(dir, n))
    .filter(isFile);
}

/**
 * Sorted by prefix, as containers/image keeps them: among matching prefixes of the same length,
 * the first in this order wins.
 */
function sortedByPrefix(rules: RegistryRule[]): RegistryRule[] {
  return rules.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// Parsing one file

type Table = Record<string, unknown>;

const SHORT_NAMES = 'short names are never resolved: every image oc-mirror reads is fully qualified';

/** Top-level v2 keys that exist but have no effect on copying fully-qualified images. */
const IRRELEVANT_TOP_LEVEL: Record<string, string> = {
  'unqualified-search-registries': SHORT_NAMES,
  'short-name-mode': SHORT_NAMES,
  aliases: SHORT_NAMES,
  'credential-helpers': 'credentials come from the auth files (--authfile, REGISTRY_AUTH_FILE, the containers and docker defaults)',
  'additional-layer-store-auth-helper': 'there is no additional layer store: images are copied, not run',
};

const UNKNOWN_KEY = 'not a registries.conf v2 key; ignored, as containers/image does';

/** Reads the keys of one TOML table with their types checked, and tells which keys were left. */
class TableReader {
  private readonly read = new Set<string>();

  constructor(
    private readonly table: Table,
    readonly where: string,
  ) {}

  string(key: string): string | undefined {
    const v = this.take(key);
    if (v === undefined || typeof v === 'string') return v;
    throw this.error(key, `must be a string, not ${describe(v)}`);
  }

  bool(key: string): boolean {
    const v = this.take(key);
    if (v === undefined || typeof v === 'boolean') return v ?? false;
    throw this.error(key, `must be true or false, not ${describe(v)}`);
  }

  tables(key: string, hint: string): Table[] {
    const v = this.take(key);
    if (v === undefined) return [];
    if (Array.isArray(v) && v.every(isTable)) return v;
    throw this.error(key, `must be an array of tables (${hint})`);
  }

  has(key: string): boolean {
    return key in this.table;
  }

  leftOver(): string[] {
    return Object.keys(this.table).filter((k) => !this.read.has(k));
  }

  error(key: string, problem: string): RegistriesConfError {
    return new RegistriesConfError(`${this.where}: "${key}" ${problem}`);
  }

  private take(key: string): unknown {
    this.read.add(key);
    return this.table[key];
  }
}

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (isTable(v)) return 'a table';
  return JSON.stringify(v) ?? String(v);
}

/** One registries.conf file: its rules (a later entry with the same prefix wins) and what was ignored. */
export function parseRegistriesConf(text: string, file: string): { rules: RegistryRule[]; ignored: IgnoredSetting[] } {
  let doc: Table;
  try {
    doc = parseToml(text);
  } catch (err) {
    if (err instanceof TomlError) throw new RegistriesConfError(`${file}:${err.line}:${err.column}: ${err.message.split('\n')[0]}`);
    throw new RegistriesConfError(`${file}: ${errorMessage(err)}`);
  }
  const v1 = doc.registries;
  if (v1 !== undefined) {
    // v1 had [registries.search], [registries.insecure] and [registries.block]; containers/image
    // still converts it, but it cannot say "pull this name from there", which is what we need.
    const table = isTable(v1) ? Object.keys(v1)[0] : undefined;
    throw new RegistriesConfError(
      `${file}: [registries${table ? `.${table}` : ''}] is the registries.conf v1 format, which is not supported; write [[registry]] tables (v2, containers-registries.conf(5))`,
    );
  }
  const top = new TableReader(doc, file);
  const ignored: IgnoredSetting[] = [];
  const rules = top
    .tables('registry', 'write [[registry]], not [registry]')
    .map((entry, i) => parseRule(entry, `${file}: [[registry]] #${i + 1}`, file, ignored));
  for (const key of top.leftOver()) {
    const reason = IRRELEVANT_TOP_LEVEL[key];
    ignored.push({ file, key, reason: reason ?? UNKNOWN_KEY, unknown: reason === undefined });
  }
  checkConsistency(rules, file);
  const byPrefix = new Map<string, RegistryRule>();
  for (const rule of rules) {
    // containers/image keeps the last of two entries with one prefix, silently; say so.
    if (byPrefix.has(rule.prefix)) ignored.push({ file, key: `[[registry]] prefix "${rule.prefix}"`, reason: 'defined again later in the file; the later entry wins', unknown: false });
    byPrefix.set(rule.prefix, rule);
  }
  return { rules: [...byPrefix.values()], ignored };
}

function parseRule(entry: Table, numbered: string, file: string, ignored: IgnoredSetting[]): RegistryRule {
  const named = typeof entry.prefix === 'string' || typeof entry.location === 'string' ? `${numbered} (${String(entry.prefix ?? entry.location)})` : numbered;
  const r = new TableReader(entry, named);
  const location = normaliseLocation(r, 'location', r.string('location') ?? '');
  const prefix = normalisePrefix(r, r.string('prefix') ?? '', location, ignored, file);
  if (r.has('pull-from-mirror')) throw r.error('pull-from-mirror', 'is a setting of [[registry.mirror]], not of [[registry]]');
  const mirrorByDigestOnly = r.bool('mirror-by-digest-only');
  const mirrors = r.tables('mirror', 'write [[registry.mirror]]').map((m, i) => parseMirror(m, `${named} mirror #${i + 1}`, mirrorByDigestOnly, file, ignored));
  const rule: RegistryRule = { prefix, location, insecure: r.bool('insecure'), blocked: r.bool('blocked'), mirrorByDigestOnly, mirrors, file };
  for (const key of r.leftOver()) ignored.push({ file, key: `[[registry]] "${prefix}" ${key}`, reason: UNKNOWN_KEY, unknown: true });
  return rule;
}

const PULL_FROM_MIRROR = new Set<string>(['all', 'digest-only', 'tag-only']);

function parseMirror(entry: Table, where: string, mirrorByDigestOnly: boolean, file: string, ignored: IgnoredSetting[]): MirrorEndpoint {
  const r = new TableReader(entry, where);
  const location = normaliseLocation(r, 'location', r.string('location') ?? '');
  if (!location) throw r.error('location', 'is required for a mirror');
  const pull = r.string('pull-from-mirror');
  if (pull !== undefined && pull !== '') {
    if (!PULL_FROM_MIRROR.has(pull)) throw r.error('pull-from-mirror', `must be all, digest-only or tag-only, not "${pull}"`);
    // Two settings for one decision would leave the reader guessing which one applies.
    if (mirrorByDigestOnly) throw r.error('pull-from-mirror', 'cannot be set when the registry has mirror-by-digest-only = true');
  }
  const mirror: MirrorEndpoint = { location, insecure: r.bool('insecure'), pullFromMirror: (pull || 'all') as PullFromMirror };
  for (const key of r.leftOver()) ignored.push({ file, key: `[[registry.mirror]] "${location}" ${key}`, reason: UNKNOWN_KEY, unknown: true });
  return mirror;
}

/**
 * `host[:port][/path]` without trailing slashes. The host must look like a host (a dot, a port or
 * `localhost`): a rewritten name starting with `mirror/...` would read as a Docker Hub path.
 */
function normaliseLocation(r: TableReader, key: string, raw: string): string {
  const value = raw.trim().replace(/\/+$/, '');
  if (!value) return '';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw r.error(key, `"${raw}": URI schemes are not supported; write host[:port][/path]`);
  if (value.includes('*')) throw r.error(key, `"${raw}": a location cannot have wildcards`);
  checkHostAndPath(r, key, raw, value);
  return value;
}

/**
 * The prefix defaults to the location. `*.example.com` matches every subdomain of example.com;
 * a wildcard anywhere else, or with a port or path, is refused (containers/image would just
 * never match it). A prefix with a tag or digest is accepted but can never match a pull, because
 * pulls are matched on the repository name alone (as containers/image does): noted as ignored.
 */
function normalisePrefix(r: TableReader, raw: string, location: string, ignored: IgnoredSetting[], file: string): string {
  const value = raw.trim().replace(/\/+$/, '');
  if (!value) {
    if (!location) throw r.error('prefix', 'and "location" are both unset; one of them is required');
    return location;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw r.error('prefix', `"${raw}": URI schemes are not supported; write host[:port][/path]`);
  if (value.startsWith('*.')) {
    const domain = value.slice(2);
    if (/[*/:@]/.test(domain)) throw r.error('prefix', `"${raw}": a wildcard prefix is *.domain only, without port or path`);
    checkHostAndPath(r, 'prefix', raw, domain, true);
    return value;
  }
  if (value.includes('*')) throw r.error('prefix', `"${raw}": a wildcard is only allowed as a leading "*." (as in *.example.com)`);
  // Without a location only a wildcard prefix makes sense: the name is then pulled as it is.
  if (!location) throw r.error('location', `is required unless the prefix is a wildcard (*.example.com)`);
  const at = value.indexOf('@');
  const name = at >= 0 ? value.slice(0, at) : value;
  const lastSlash = name.lastIndexOf('/');
  const tagColon = lastSlash >= 0 ? name.indexOf(':', lastSlash) : -1;
  const repo = tagColon >= 0 ? name.slice(0, tagColon) : name;
  checkHostAndPath(r, 'prefix', raw, repo);
  if (repo !== value) ignored.push({ file, key: `[[registry]] prefix "${value}"`, reason: 'a prefix with a tag or digest never matches a pull (pulls are matched on the repository name)', unknown: false });
  return value;
}

/** `host[:port][/path]` as the reference grammar has it; `anyHost` for a wildcard's domain part. */
function checkHostAndPath(r: TableReader, key: string, raw: string, value: string, anyHost = false): void {
  let host: string;
  try {
    host = parseRegistryLocation(value).registry;
  } catch (err) {
    const message = errorMessage(err);
    throw r.error(key, `"${raw}": ${message.startsWith(`${value}: `) ? message.slice(value.length + 2) : message}`);
  }
  if (!anyHost && !host.includes('.') && !host.includes(':') && host !== 'localhost' && !host.startsWith('[')) {
    throw r.error(key, `"${raw}": "${host}" is not a registry host (it needs a dot, a port or to be localhost)`);
  }
}

/**
 * containers/image refuses one location listed twice with different `insecure` or `blocked`:
 * which of the two would apply to a pull would depend on the prefix matched.
 */
function checkConsistency(rules: RegistryRule[], file: string): void {
  const seen = new Map<string, RegistryRule>();
  for (const rule of rules) {
    const key = rule.location || rule.prefix;
    const other = seen.get(key);
    if (other) {
      for (const field of ['insecure', 'blocked'] as const) {
        if (other[field] !== rule[field]) {
          throw new RegistriesConfError(`${file}: registry "${key}" is defined more than once with conflicting "${field}" settings`);
        }
      }
    }
    seen.set(key, rule);
  }
}

// ---------------------------------------------------------------------------------------------
// Resolving a pull

interface Match {
  rule: RegistryRule;
  /** characters of the name the prefix covers: what the location replaces */
  covered: number;
}

/**
 * How much of `name` (`registry/repository`) the prefix covers, or -1. A plain prefix covers the
 * name when it is the name or the name continues with `/` after it. Unlike containers/image,
 * `example.com` does not cover `example.com:5000/x`: containers/image calls that match
 * unintended, and another port is another registry. `*.example.com` covers any host ending in
 * `.example.com`, with any port; the whole host (port included) is what gets replaced.
 */
function covered(name: string, prefix: string): number {
  if (prefix.startsWith('*.')) {
    const slash = name.indexOf('/');
    const host = slash >= 0 ? name.slice(0, slash) : name;
    const hostname = host.replace(/:\d+$/, '');
    const domain = prefix.slice(1);
    return hostname.endsWith(domain) && hostname.length > domain.length ? host.length : -1;
  }
  if (name === prefix || name.startsWith(prefix + '/')) return prefix.length;
  return -1;
}

/**
 * The rule for a name: the longest matching prefix, by the prefix's own length as containers/image
 * measures it (so `a.example.com` beats `*.example.com`); among equally long ones the first in
 * prefix order.
 */
function findRule(rules: readonly RegistryRule[], name: string): Match | undefined {
  let best: Match | undefined;
  for (const rule of rules) {
    const n = covered(name, rule.prefix);
    if (n >= 0 && (!best || rule.prefix.length > best.rule.prefix.length)) best = { rule, covered: n };
  }
  return best;
}

/** Mirrors in their order, minus those that may not serve this kind of reference. */
function usableMirrors(rule: RegistryRule, byDigest: boolean): MirrorEndpoint[] {
  // Tags move, so a mirror that only copied some content by digest may hold a stale or wrong
  // image under a tag: `mirror-by-digest-only` / `digest-only` mirrors never serve tags. A tag
  // and a digest together is a digest pull.
  if (rule.mirrorByDigestOnly) return byDigest ? rule.mirrors : [];
  return rule.mirrors.filter((m) => (m.pullFromMirror === 'digest-only' ? byDigest : m.pullFromMirror === 'tag-only' ? !byDigest : true));
}

/**
 * Where to try pulling `ref` from, in order: the usable mirrors, then the primary location, each
 * with the matched prefix replaced by its location. No matching rule: `ref` itself. The primary
 * is always last, as in containers/image: mirrors are a preference, not a replacement; to never
 * touch the origin, block its host (a `blocked = true` entry for the host), which drops every
 * candidate on that host.
 */
export function resolvePull(conf: RegistriesConf, ref: ImageReference): PullSource[] {
  const name = repositoryName(ref);
  const match = findRule(conf.rules, name);
  if (!match) return [{ ...ref, insecure: false, mirror: false }];
  const { rule } = match;
  // A blocked entry refuses the pull outright, even when it has mirrors (containers/image).
  if (rule.blocked) throw new RegistryBlockedError(formatReference(ref), rule.prefix, rule.file);
  const mirrors = usableMirrors(rule, ref.digest !== undefined);
  const endpoints = [
    ...mirrors.map((m) => ({ location: m.location, insecure: m.insecure, mirror: true })),
    { location: rule.location, insecure: rule.insecure, mirror: false },
  ];
  const candidates = endpoints.map((e) => ({ ...rewrite(ref, match, e.location), insecure: e.insecure, mirror: e.mirror }));
  // containers/image looks each candidate's host up again and refuses a blocked one, so the
  // origin can be blocked while some of its repositories are served from mirrors.
  const blocking = candidates.map((c) => findRule(conf.rules, c.registry)?.rule).map((r) => (r?.blocked ? r : undefined));
  const allowed = candidates.filter((_, i) => !blocking[i]);
  if (allowed.length === 0) {
    const first = blocking[0]!;
    const skipped = rule.mirrors.length - mirrors.length;
    const why = skipped > 0 ? `; ${skipped === 1 ? 'its mirror serves' : `its ${skipped} mirrors serve`} ${ref.digest ? 'tags' : 'digests'} only` : '';
    throw new RegistryBlockedError(formatReference(ref), first.prefix, first.file, why);
  }
  return allowed;
}

/** `ref` with the covered part of its name replaced by `location`; tag and digest kept. */
function rewrite(ref: ImageReference, match: Match, location: string): ImageReference {
  // A wildcard prefix without a location pulls the name as it is.
  if (!location) return { ...ref };
  const name = repositoryName(ref);
  const rewritten = location + name.slice(match.covered);
  const fail = () =>
    new RegistriesConfError(`${match.rule.file}: [[registry]] "${match.rule.prefix}": ${formatReference(ref)} rewrites to "${rewritten}", which is not an image name`);
  if (!rewritten.includes('/')) throw fail();
  let parsed: ImageReference;
  try {
    parsed = parseReference(rewritten);
  } catch {
    throw fail();
  }
  return {
    registry: parsed.registry,
    repository: parsed.repository,
    ...(ref.tag !== undefined && { tag: ref.tag }),
    ...(ref.digest !== undefined && { digest: ref.digest }),
  };
}
