/**
 * Chart repositories (`index.yaml` over HTTP(S)): reading the index, choosing versions as Helm's
 * `IndexFile.Get` does, and where charts and indexes are kept in working-dir (ref §3.1).
 */
import semver from 'semver';
import { normalizeSemver } from '../config/semver.js';
import { errorMessage } from '../errors.js';
import { parseHelmYaml } from './chart.js';
import { HelmError } from './errors.js';
import { isTable, satisfiesConstraint } from './values.js';

export interface IndexEntry {
  name: string;
  version: string;
  /** `library` charts are never rendered on their own */
  type: string;
  urls: string[];
  /** hex sha256 of the archive, when the index says */
  digest?: string;
}

/** Chart versions by chart name, each list newest first (as Helm sorts it). */
export type RepositoryIndex = Map<string, IndexEntry[]>;

/** `helm/indexes/<host/path>/index.yaml` */
export function indexMetadataPath(repoUrl: string): string {
  const u = new URL(repoUrl);
  const path = u.pathname.replace(/^\/+|\/+$/g, '');
  return `helm/indexes/${u.host}${path ? `/${path}` : ''}/index.yaml`;
}

/** `helm/charts/<name>-<version>.tgz` */
export function chartMetadataPath(name: string, version: string): string {
  return `helm/charts/${name}-${version}.tgz`;
}

/** `<url>/index.yaml`, whether or not the url ends with `/` (oc-mirror needs the slash; Helm does not). */
export function indexUrl(repoUrl: string): string {
  const u = new URL(repoUrl);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/index.yaml`;
  return u.toString();
}

/** A chart URL of the index, relative ones resolved against the repository URL as Helm does. */
export function chartUrl(repoUrl: string, entryUrl: string): string {
  if (URL.canParse(entryUrl)) return entryUrl;
  const base = new URL(repoUrl);
  base.pathname = `${base.pathname.replace(/\/+$/, '')}/`;
  const resolved = new URL(entryUrl, base);
  resolved.search = base.search;
  return resolved.toString();
}

function compareVersionsDescending(a: IndexEntry, b: IndexEntry): number {
  const va = normalizeSemver(a.version);
  const vb = normalizeSemver(b.version);
  if (va && vb) return semver.rcompare(va, vb);
  return va ? -1 : vb ? 1 : 0;
}

/** Parses an index.yaml (YAML or JSON); `where` names the repository in messages. */
export function parseIndex(bytes: Buffer, where: string): RepositoryIndex {
  const doc = parseHelmYaml(bytes.toString('utf8'), `${where}: index.yaml`);
  if (!isTable(doc) || !isTable(doc.entries)) throw new HelmError(`${where}: index.yaml has no entries (not a chart repository index)`);
  const index: RepositoryIndex = new Map();
  for (const [name, list] of Object.entries(doc.entries)) {
    if (!Array.isArray(list)) throw new HelmError(`${where}: index.yaml entries.${name} is not a list`);
    const versions = list.map((e, i): IndexEntry => {
      const at = `${where}: index.yaml entries.${name}[${i}]`;
      if (!isTable(e)) throw new HelmError(`${at} is not a table`);
      const version = typeof e.version === 'string' || typeof e.version === 'number' ? String(e.version) : '';
      if (!version) throw new HelmError(`${at} has no version`);
      const urls = Array.isArray(e.urls) ? e.urls.filter((u): u is string => typeof u === 'string') : [];
      const digest = typeof e.digest === 'string' && /^[a-f0-9]{64}$/.test(e.digest) ? e.digest : undefined;
      return { name, version, type: typeof e.type === 'string' && e.type ? e.type : 'application', urls, ...(digest && { digest }) };
    });
    index.set(name, versions.sort(compareVersionsDescending));
  }
  return index;
}

/**
 * The version Helm installs for `name` and `constraint`: an entry whose version is the
 * constraint's exact text, else the newest that satisfies it (no constraint: the newest that is
 * not a pre-release).
 */
export function selectVersion(index: RepositoryIndex, name: string, constraint: string | undefined, where: string): IndexEntry {
  const versions = index.get(name);
  if (!versions?.length) throw new HelmError(`${where}: chart ${name} is not in the repository index`);
  if (constraint) {
    const exact = versions.find((v) => v.version === constraint);
    if (exact) return exact;
  }
  for (const entry of versions) {
    const v = normalizeSemver(entry.version);
    if (!v) continue;
    let ok: boolean;
    try {
      ok = satisfiesConstraint(v, constraint || '*');
    } catch (err) {
      throw new HelmError(`${where}: chart ${name}: version "${constraint}" is not a version or version range: ${errorMessage(err)}`);
    }
    if (ok) return entry;
  }
  throw new HelmError(`${where}: chart ${name}: no version matches "${constraint ?? '*'}" (the index has ${versions.map((v) => v.version).join(', ')})`);
}
