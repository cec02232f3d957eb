/**
 * A chart as Helm's loader sees it: metadata (Chart.yaml), default values, templates, other files
 * (for `.Files`) and the vendored sub-charts under `charts/` (directories or archives).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { isSemverLike } from '../config/semver.js';
import { errorMessage } from '../errors.js';
import { readChartArchive, type ChartFiles } from './chart-archive.js';
import { HelmError } from './errors.js';

export type Values = Record<string, unknown>;

export interface ChartDependency {
  name: string;
  version?: string;
  repository?: string;
  condition?: string;
  tags?: string[];
  alias?: string;
  /** `import-values`: strings (`exports.<x>`) or `{child, parent}` tables */
  importValues?: unknown[];
}

export interface ChartMetadata {
  name: string;
  version: string;
  apiVersion: string;
  /** `application` (default) or `library` */
  type: string;
  appVersion?: string;
  dependencies: ChartDependency[];
  /** Chart.yaml as written, for `.Chart` */
  fields: Record<string, unknown>;
}

export interface ChartFile {
  /** path inside the chart, `/`-separated */
  name: string;
  data: Buffer;
}

export interface Chart {
  metadata: ChartMetadata;
  values: Values;
  /** files under `templates/`, named `templates/<path>` */
  templates: ChartFile[];
  /** every other file of the chart (what `.Files` reads) */
  files: ChartFile[];
  /** vendored sub-charts, as found under `charts/` */
  dependencies: Chart[];
  /** names the chart in messages: `nginx-1.2.3` or a path */
  label: string;
}

/** How Helm reads YAML (go-yaml through sigs.k8s.io/yaml): YAML 1.1 scalars (`yes` is true), merge keys. */
export function parseHelmYaml(text: string, what: string): unknown {
  try {
    return parse(text, { version: '1.1', merge: true, maxAliasCount: 10_000 });
  } catch (err) {
    throw new HelmError(`${what}: ${errorMessage(err).split('\n')[0]}`);
  }
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new HelmError(`${what} is not a string`);
}

function parseDependencies(raw: unknown, where: string): ChartDependency[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new HelmError(`${where}: dependencies is not a list`);
  return raw.map((d, i) => {
    const at = `${where}: dependencies[${i}]`;
    if (!isTable(d)) throw new HelmError(`${at} is not a table`);
    const name = optionalString(d.name, `${at}.name`);
    if (!name) throw new HelmError(`${at} has no name`);
    const tags = d.tags === undefined || d.tags === null ? undefined : d.tags;
    if (tags !== undefined && !(Array.isArray(tags) && tags.every((t) => typeof t === 'string'))) throw new HelmError(`${at}.tags is not a list of strings`);
    const importValues = d['import-values'];
    if (importValues !== undefined && importValues !== null && !Array.isArray(importValues)) throw new HelmError(`${at}.import-values is not a list`);
    const dep: ChartDependency = { name };
    const version = optionalString(d.version, `${at}.version`);
    const repository = optionalString(d.repository, `${at}.repository`);
    const condition = optionalString(d.condition, `${at}.condition`);
    const alias = optionalString(d.alias, `${at}.alias`);
    if (version) dep.version = version;
    if (repository) dep.repository = repository;
    if (condition) dep.condition = condition;
    if (alias) dep.alias = alias;
    if (tags) dep.tags = tags as string[];
    if (Array.isArray(importValues)) dep.importValues = importValues;
    return dep;
  });
}

function parseMetadata(files: ChartFiles, where: string): ChartMetadata {
  const chartYaml = files.get('Chart.yaml');
  if (!chartYaml) throw new HelmError(`${where}: Chart.yaml is missing (not a chart)`);
  const fields = parseHelmYaml(chartYaml.toString('utf8'), `${where}: Chart.yaml`);
  if (!isTable(fields)) throw new HelmError(`${where}: Chart.yaml is not a table`);
  const name = optionalString(fields.name, `${where}: Chart.yaml name`);
  if (!name) throw new HelmError(`${where}: Chart.yaml has no name`);
  const version = optionalString(fields.version, `${where}: Chart.yaml version`);
  if (!version || !isSemverLike(version)) throw new HelmError(`${where}: Chart.yaml version ${version ? `"${version}" is not a semantic version` : 'is missing'}`);
  const apiVersion = optionalString(fields.apiVersion, `${where}: Chart.yaml apiVersion`) ?? '';
  if (apiVersion !== 'v1' && apiVersion !== 'v2') throw new HelmError(`${where}: Chart.yaml apiVersion ${apiVersion ? `"${apiVersion}"` : 'is missing'}: expected v1 or v2`);
  const type = optionalString(fields.type, `${where}: Chart.yaml type`) ?? 'application';
  if (type !== 'application' && type !== 'library') throw new HelmError(`${where}: Chart.yaml type "${type}" is not application or library`);
  // apiVersion v1 charts declare their dependencies in requirements.yaml.
  let dependencies = parseDependencies(fields.dependencies, `${where}: Chart.yaml`);
  const requirements = files.get('requirements.yaml');
  if (apiVersion === 'v1' && requirements) {
    const req = parseHelmYaml(requirements.toString('utf8'), `${where}: requirements.yaml`);
    dependencies = parseDependencies(isTable(req) ? req.dependencies : undefined, `${where}: requirements.yaml`);
  }
  const appVersion = optionalString(fields.appVersion, `${where}: Chart.yaml appVersion`);
  return { name, version, apiVersion, type, ...(appVersion !== undefined && { appVersion }), dependencies, fields };
}

const NOT_FILES = new Set(['Chart.yaml', 'values.yaml', 'values.schema.json', 'requirements.yaml', 'requirements.lock', 'Chart.lock']);

/** A chart from its files (paths relative to its root). `where` names it until its metadata is read. */
export async function loadChart(files: ChartFiles, where: string): Promise<Chart> {
  const metadata = parseMetadata(files, where);
  const label = `${metadata.name}-${metadata.version}`;
  const valuesYaml = files.get('values.yaml');
  const values = valuesYaml ? parseHelmYaml(valuesYaml.toString('utf8'), `chart ${label}: values.yaml`) : {};
  if (values !== null && values !== undefined && !isTable(values)) throw new HelmError(`chart ${label}: values.yaml is not a table`);

  const templates: ChartFile[] = [];
  const other: ChartFile[] = [];
  const subcharts = new Map<string, ChartFiles>();
  for (const [name, data] of files) {
    if (name.startsWith('templates/')) templates.push({ name, data });
    else if (name.startsWith('charts/')) {
      const rest = name.slice('charts/'.length);
      if (rest.endsWith('.prov')) other.push({ name, data });
      // Helm ignores entries under charts/ whose name starts with . or _.
      else if (!/^[._]/.test(rest)) {
        const slash = rest.indexOf('/');
        const sub = slash < 0 ? rest : rest.slice(0, slash);
        let group = subcharts.get(sub);
        if (!group) subcharts.set(sub, (group = new Map()));
        group.set(slash < 0 ? '' : rest.slice(slash + 1), data);
      }
    } else if (!NOT_FILES.has(name)) other.push({ name, data });
  }
  const dependencies: Chart[] = [];
  for (const [sub, group] of [...subcharts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const subWhere = `chart ${label}: charts/${sub}`;
    const archive = group.get('');
    if (archive) {
      if (!sub.endsWith('.tgz')) continue; // a stray file under charts/ (README, .prov handled above)
      dependencies.push(await loadChart(await readChartArchive(archive, subWhere), subWhere));
    } else {
      dependencies.push(await loadChart(group, subWhere));
    }
  }
  const byName = (a: ChartFile, b: ChartFile) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { metadata, values: (values as Values | null) ?? {}, templates: templates.sort(byName), files: other.sort(byName), dependencies, label };
}

/** Every file below a chart directory (symlinks followed, as Helm does). */
async function readChartDirectory(root: string): Promise<ChartFiles> {
  const files: ChartFiles = new Map();
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of (await readdir(dir)).sort()) {
      const path = join(dir, entry);
      const info = await stat(path);
      const name = prefix ? `${prefix}/${entry}` : entry;
      if (info.isDirectory()) await walk(path, name);
      else if (info.isFile()) files.set(name, await readFile(path));
    }
  };
  await walk(root, '');
  return files;
}

/** The files of a local chart: a chart directory, or a chart archive (`.tgz`). */
export async function readLocalChart(path: string, where: string): Promise<{ files: ChartFiles; archive?: Buffer }> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new HelmError(`${where}: cannot read ${path}: ${errorMessage(err)}`);
  }
  if (info.isDirectory()) return { files: await readChartDirectory(path) };
  const archive = await readFile(path);
  return { files: await readChartArchive(archive, where), archive };
}
