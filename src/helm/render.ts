/**
 * Renders a chart tree as `helm template` would, for finding images: every template of the tree in
 * one template set (so `define`s are shared), each executed with its own chart's view of the
 * values. Partials (`_*`) are not rendered, nor NOTES.txt; library charts lend their partials only.
 */
import { posix } from 'node:path';
import { errorMessage } from '../errors.js';
import { helmTemplateSet, TemplateError } from './template/index.js';
import type { Chart, Values } from './chart.js';
import { HelmError } from './errors.js';
import { capabilitiesObject, chartObject, Files, releaseObject } from './render-data.js';
import { isTable, prepareChart } from './values.js';

interface Renderable {
  name: string;
  text: string;
  data: Record<string, unknown>;
  basePath: string;
}

function isPartial(name: string): boolean {
  return posix.basename(name).startsWith('_');
}

/** Helm's recAllTpls: the data every template of `chart` sees, and its templates under `<path>/templates/`. */
function collectTemplates(chart: Chart, parent: Record<string, unknown>, path: string, isRoot: boolean, out: Renderable[]): Record<string, unknown> {
  const subcharts: Record<string, unknown> = {};
  const parentValues = parent.Values as Values;
  const own = isRoot ? parentValues : parentValues[chart.metadata.name];
  const data: Record<string, unknown> = {
    Chart: chartObject(chart.metadata, isRoot),
    Files: Files.of(chart.files),
    Release: parent.Release,
    Capabilities: parent.Capabilities,
    Values: isTable(own) ? own : {},
    Subcharts: subcharts,
  };
  for (const child of chart.dependencies) {
    subcharts[child.metadata.name] = collectTemplates(child, data, `${path}/charts/${child.metadata.name}`, false, out);
  }
  const library = chart.metadata.type === 'library';
  for (const t of chart.templates) {
    // A library chart's only valid templates are its partials.
    if (library && !isPartial(t.name)) continue;
    out.push({ name: `${path}/${t.name}`, text: t.data.toString('utf8'), data, basePath: `${path}/templates` });
  }
  return data;
}

/**
 * Helm parses deeper templates first, so that a parent's `define` replaces a sub-chart's of the
 * same name: by path depth, deepest first, then by name descending.
 */
function parseOrder(a: Renderable, b: Renderable): number {
  const da = a.name.split('/').length;
  const db = b.name.split('/').length;
  if (da !== db) return db - da;
  return a.name < b.name ? 1 : a.name > b.name ? -1 : 0;
}

/** Rendered output by template name (`<chart>/templates/x.yaml`, `<chart>/charts/<sub>/templates/y.yaml`); empty outputs left out. */
export function renderChart(loaded: Chart): Map<string, string> {
  const { chart, values } = prepareChart(loaded);
  const renderables: Renderable[] = [];
  collectTemplates(chart, { Values: values, Release: releaseObject(), Capabilities: capabilitiesObject() }, chart.metadata.name, true, renderables);
  renderables.sort(parseOrder);

  const set = helmTemplateSet();
  const fail = (err: unknown): never => {
    if (err instanceof TemplateError) throw new HelmError(`chart ${loaded.label}: ${err.message}`);
    throw new HelmError(`chart ${loaded.label}: ${errorMessage(err)}`);
  };
  try {
    for (const r of renderables) set.add(r.name, r.text);
  } catch (err) {
    fail(err);
  }
  const rendered = new Map<string, string>();
  for (const r of [...renderables].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (isPartial(r.name) || posix.basename(r.name) === 'NOTES.txt') continue;
    let output = '';
    try {
      output = set.execute(r.name, { ...r.data, Template: { Name: r.name, BasePath: r.basePath } });
    } catch (err) {
      fail(err);
    }
    if (output.trim() !== '') rendered.set(r.name, output);
  }
  return rendered;
}
