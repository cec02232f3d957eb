/**
 * Values as Helm computes them before rendering (its chartutil coalescing and dependency
 * processing): a chart's defaults under what its parent says, `global` handed down to every
 * sub-chart, dependencies renamed by their alias and dropped when a condition or tags disable them,
 * and `import-values` lifted from sub-charts into their parent.
 */
import semver from 'semver';
import { normalizeSemver } from '../config/semver.js';
import type { Chart, ChartDependency, Values } from './chart.js';
import { HelmError } from './errors.js';

const GLOBAL = 'global';

export function isTable(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/** A deep copy of tables (lists and scalars are shared: nothing below mutates them). */
function copyTable(v: Values): Values {
  const out: Values = {};
  for (const [k, x] of Object.entries(v)) out[k] = isTable(x) ? copyTable(x) : x;
  return out;
}

/**
 * Fills `dst` with what `src` has and `dst` lacks, recursively into tables: `dst` wins. A null in
 * `dst` deletes the key (how a parent removes a sub-chart default).
 */
export function coalesceTables(dst: Values, src: Values): Values {
  for (const [key, value] of Object.entries(src)) {
    if (!(key in dst)) dst[key] = isTable(value) ? copyTable(value) : value;
    else if (dst[key] === null) delete dst[key];
    else if (isTable(dst[key]) && isTable(value)) coalesceTables(dst[key] as Values, value);
  }
  return dst;
}

/** The parent's `global` entries go into the sub-chart's `global`: the parent wins on scalars, tables merge. */
function coalesceGlobals(dest: Values, parent: Values): void {
  const dg: Values = isTable(dest[GLOBAL]) ? (dest[GLOBAL] as Values) : {};
  const sg: Values = isTable(parent[GLOBAL]) ? (parent[GLOBAL] as Values) : {};
  for (const [key, value] of Object.entries(sg)) {
    if (isTable(value)) {
      if (!(key in dg)) dg[key] = copyTable(value);
      else if (isTable(dg[key])) dg[key] = coalesceTables(copyTable(value), dg[key] as Values);
    } else if (!isTable(dg[key])) {
      dg[key] = value;
    }
  }
  dest[GLOBAL] = dg;
}

/** A chart's defaults under `values` (which win), recursively for its sub-charts, keyed by their (aliased) names. */
function coalesceChart(chart: Chart, values: Values): Values {
  for (const [key, value] of Object.entries(chart.values)) {
    if (!(key in values)) values[key] = isTable(value) ? copyTable(value) : value;
    else if (values[key] === null) delete values[key];
    else if (isTable(values[key]) && isTable(value)) coalesceTables(values[key] as Values, value);
  }
  for (const sub of chart.dependencies) {
    const name = sub.metadata.name;
    if (!(name in values)) values[name] = {};
    if (!isTable(values[name])) continue; // Helm warns and leaves a non-table alone
    coalesceGlobals(values[name] as Values, values);
    coalesceChart(sub, values[name] as Values);
  }
  return values;
}

/** The values a chart renders with: its defaults and its sub-charts' under the given (user) values. */
export function coalesceValues(chart: Chart, values: Values = {}): Values {
  return coalesceChart(chart, copyTable(values));
}

/** The value at a dotted path (`a.b.c`) of tables; undefined when any step is missing or not a table. */
export function pathValue(values: Values, path: string): unknown {
  let node: unknown = values;
  for (const key of path.split('.')) {
    if (!isTable(node) || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Masterminds-style range check as Helm applies it to dependency versions (empty or unparseable: compatible). */
function compatible(range: string | undefined, version: string): boolean {
  if (!range) return true;
  const v = normalizeSemver(version);
  return v !== undefined && satisfiesConstraint(v, range);
}

/**
 * A Masterminds constraint (`^1.2`, `~1.2.3`, `>= 1.2, < 2`, `1.2.x`, `!= 1.3.0`, `a || b`) checked
 * with npm semver: commas and spaces both join, `=>`/`=<` are spelled out, `!=` is checked apart.
 * Throws on a constraint that does not parse.
 */
export function satisfiesConstraint(version: string, constraint: string): boolean {
  return constraint.split('||').some((group) => {
    const excluded: string[] = [];
    const rest = group
      .replace(/,/g, ' ')
      .replace(/=>/g, '>=')
      .replace(/=</g, '<=')
      .replace(/([<>=~^!]+)\s+/g, '$1')
      .replace(/!=(\S+)/g, (_m, v: string) => {
        excluded.push(v);
        return '';
      })
      .trim();
    const range = new semver.Range(rest === '' ? '*' : rest);
    if (!range.test(version)) return false;
    return excluded.every((x) => {
      const n = normalizeSemver(x);
      if (n === undefined) throw new TypeError(`invalid version "${x}"`);
      return !semver.eq(version, n);
    });
  });
}

/** Renames a sub-chart (aliases): a shallow copy with its own metadata. */
function renamed(chart: Chart, name: string): Chart {
  return { ...chart, metadata: { ...chart.metadata, name } };
}

interface ResolvedDependency {
  dep: ChartDependency;
  /** the name the sub-chart takes (its alias, or its name) */
  name: string;
  enabled: boolean;
}

/** Tags then conditions, as Helm applies them: the first condition that resolves to a bool decides. */
function decideEnabled(deps: ResolvedDependency[], values: Values, path: string): void {
  const tags = isTable(values.tags) ? values.tags : undefined;
  for (const r of deps) {
    if (tags && r.dep.tags?.length) {
      let hasTrue = false;
      let hasFalse = false;
      for (const t of r.dep.tags) {
        if (typeof tags[t] === 'boolean') {
          if (tags[t]) hasTrue = true;
          else hasFalse = true;
        }
      }
      r.enabled = hasTrue || !hasFalse;
    }
    for (const c of (r.dep.condition ?? '').split(',').map((s) => s.trim())) {
      if (!c) continue;
      const v = pathValue(values, path + c);
      if (typeof v === 'boolean') {
        r.enabled = v;
        break;
      }
    }
  }
}

/**
 * The chart tree Helm renders: sub-charts named by their aliases (a sub-chart declared twice under
 * two aliases appears twice), disabled ones removed, recursively. `values` are the user's values
 * (none for mirroring) and `path` the dotted prefix of this chart in them.
 */
function enabledTree(chart: Chart, values: Values, path: string): Chart {
  const declared = chart.metadata.dependencies;
  if (declared.length === 0) return chart;
  // Vendored charts that Chart.yaml does not declare are kept as they are.
  const undeclared = chart.dependencies.filter((c) => !declared.some((d) => d.name === c.metadata.name && compatible(d.version, c.metadata.version)));
  const resolved: ResolvedDependency[] = declared.map((dep) => ({ dep, name: dep.alias ?? dep.name, enabled: true }));
  const children: Chart[] = [...undeclared];
  const childOf = new Map<ResolvedDependency, Chart>();
  for (const r of resolved) {
    const vendored = chart.dependencies.find((c) => c.metadata.name === r.dep.name && compatible(r.dep.version, c.metadata.version));
    if (!vendored) {
      // helm install refuses such a chart too: its images could not be known.
      throw new HelmError(`chart ${chart.label}: dependency ${r.dep.name}${r.dep.version ? ` ${r.dep.version}` : ''} is declared in Chart.yaml but not vendored in charts/ (run helm dependency build before packaging)`);
    }
    const child = r.dep.alias ? renamed(vendored, r.dep.alias) : vendored;
    children.push(child);
    childOf.set(r, child);
  }
  const withChildren: Chart = { ...chart, dependencies: children };
  const cvals = coalesceValues(withChildren, values);
  decideEnabled(resolved, cvals, path);
  const disabled = new Set(resolved.filter((r) => !r.enabled).map((r) => r.name));
  const kept = children.filter((c) => !disabled.has(c.metadata.name)).map((c) => enabledTree(c, cvals, `${path}${c.metadata.name}.`));
  return {
    ...chart,
    metadata: { ...chart.metadata, dependencies: declared.filter((d) => !disabled.has(d.alias ?? d.name)).map((d) => (d.alias ? { ...d, name: d.alias } : d)) },
    dependencies: kept,
  };
}

/** A table at a dotted path, built outward (`a.b` + v → `{a: {b: v}}`); `.` or empty is the root. */
function underPath(path: string, value: Values): Values {
  const keys = path.split('.').filter((k) => k !== '');
  return keys.reduceRight<Values>((acc, key) => ({ [key]: acc }), value);
}

/**
 * `import-values`: values a sub-chart exports become its parent's defaults, below what the parent
 * sets itself. Applied bottom-up, so a grandchild's export can travel two levels.
 */
function importValues(chart: Chart): Chart {
  const children = chart.dependencies.map(importValues);
  const withChildren: Chart = { ...chart, dependencies: children };
  const deps = chart.metadata.dependencies.filter((d) => d.importValues?.length);
  if (deps.length === 0) return withChildren;
  const cvals = coalesceValues(withChildren);
  let imported: Values = {};
  for (const d of deps) {
    for (const iv of d.importValues ?? []) {
      let child: string;
      let parent: string;
      if (typeof iv === 'string') {
        child = `exports.${iv}`;
        parent = '.';
      } else if (isTable(iv) && typeof iv.child === 'string' && typeof iv.parent === 'string') {
        child = iv.child;
        parent = iv.parent;
      } else continue;
      const table = pathValue(cvals, `${d.name}.${child}`);
      if (!isTable(table)) continue;
      // The first import of a key wins, as in Helm.
      imported = coalesceTables(imported, underPath(parent, copyTable(table)));
    }
  }
  return { ...withChildren, values: coalesceTables(copyTable(chart.values), imported) };
}

/** The chart tree as Helm renders it (aliases, conditions, tags, import-values) and the values it renders with. */
export function prepareChart(chart: Chart, userValues: Values = {}): { chart: Chart; values: Values } {
  const tree = importValues(enabledTree(chart, userValues, ''));
  return { chart: tree, values: coalesceValues(tree, userValues) };
}
