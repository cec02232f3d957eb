import { ORIGINS, summarize, type ImageResult, type OriginCounts, type RunReport } from '../outputs/report.js';
import type { CopyTask, Membership, Origin, Plan } from '../plan/types.js';
import { PLAN_PLACEHOLDER_DESTINATION } from './input-table.js';
import { budgetedTable, bytesOf, cellText, code, formatBytes, formatCount, formatDuration, type TableSpec } from './summary-html.js';
import { knownBytes, taskKey, type TaskSizes } from './task-sizes.js';

/** GitHub refuses a step summary above this (the step goes on, the summary is lost). */
export const SUMMARY_LIMIT_BYTES = 1024 * 1024;

export interface SummaryLimits {
  /** rows of the table of images */
  imageRows: number;
  /** rows of the failures table */
  failureRows: number;
  /** rows of the other tables (archives, cluster resources, plan groups, plan changes) */
  listRows: number;
  /** characters of one cell's text */
  cellChars: number;
  /** UTF-8 bytes of the whole summary; tables are cut to stay under it */
  maxBytes: number;
}

export const DEFAULT_SUMMARY_LIMITS: Readonly<SummaryLimits> = {
  imageRows: 300,
  failureRows: 200,
  listRows: 300,
  cellChars: 500,
  // Room for anything else the step adds to its summary.
  maxBytes: SUMMARY_LIMIT_BYTES - 64 * 1024,
};

export interface RunSummaryExtras {
  /** archives written (pack) */
  archives?: readonly { path: string; bytes: number }[];
  /** cluster resource files written (mirror, push) */
  clusterResources?: readonly string[];
  durationMs: number;
  /** the artifact holding the full report, named where tables are cut */
  artifactName?: string;
}

/**
 * The job summary of a run (mirror, pack, push): totals, results per origin, failures with what
 * they break, cluster resources, archives and the images. Tables are cut to their row limits and to
 * the byte budget, the failures first served, the long list of images last.
 */
export function renderRunSummary(report: RunReport, extras: RunSummaryExtras, limits: Partial<SummaryLimits> = {}): string {
  const l = { ...DEFAULT_SUMMARY_LIMITS, ...limits };
  const out = new Sections(l.maxBytes);
  const elsewhere = fullListNote(extras.artifactName, l.cellChars);
  out.add(runHeading(report, extras, l));
  if (report.images.length > 0) out.add(originTable(report));

  const failures = report.images.filter((i) => i.status === 'failed' || i.status === 'skipped');
  if (failures.length > 0) {
    out.addSection(`<h3>Failures (${formatCount(failures.length)})</h3>`, 0.6, {
      headers: ['Image', 'Reason', 'What it breaks'],
      rows: failures,
      cells: (i) => [code(i.task.source, l.cellChars), cellText(reasonOf(i), l.cellChars), breaks(i.task.belongsTo, l.cellChars)],
      maxRows: l.failureRows,
      more: (n) => `… and ${formatCount(n)} more ${elsewhere}`,
    });
  }

  if (extras.clusterResources) {
    if (extras.clusterResources.length === 0) out.add('<h3>Cluster resources</h3>\n\n<p>None produced.</p>');
    else {
      out.addSection(`<h3>Cluster resources (${formatCount(extras.clusterResources.length)})</h3>`, 0.5, {
        headers: ['File'],
        rows: extras.clusterResources,
        cells: (path) => [code(path, l.cellChars)],
        maxRows: l.listRows,
        more: (n) => `… and ${formatCount(n)} more`,
      });
    }
  }

  if (extras.archives && extras.archives.length > 0) {
    const total = extras.archives.reduce((sum, a) => sum + a.bytes, 0);
    out.addSection(`<h3>Archives (${formatCount(extras.archives.length)}, ${formatBytes(total)})</h3>`, 0.5, {
      headers: ['Archive', 'Size'],
      rows: extras.archives,
      cells: (a) => [code(a.path, l.cellChars), formatBytes(a.bytes)],
      maxRows: l.listRows,
      more: (n) => `… and ${formatCount(n)} more`,
    });
  }

  const copied = report.images.filter((i) => i.status === 'mirrored' || i.status === 'present');
  if (copied.length > 0) {
    out.addSection(`<h3>Mirrored images (${formatCount(copied.length)})</h3>`, 1, {
      headers: ['Image', 'Destination', 'Origin', 'Result', 'Transferred'],
      rows: copied,
      cells: (i) => [
        code(i.task.source, l.cellChars),
        code(i.task.destination, l.cellChars),
        i.task.origin,
        i.status === 'mirrored' ? 'copied' : 'already there',
        i.bytes ? formatBytes(i.bytes) : '—',
      ],
      maxRows: l.imageRows,
      more: (n) => `… and ${formatCount(n)} more ${elsewhere}`,
    });
  }
  return out.toString();
}

const WORKFLOW_LABELS: Readonly<Record<string, string>> = {
  mirrorToMirror: 'mirror to mirror',
  mirrorToDisk: 'mirror to disk',
  diskToMirror: 'disk to mirror',
};

function runHeading(report: RunReport, extras: RunSummaryExtras, l: SummaryLimits): string {
  const workflow = WORKFLOW_LABELS[report.workflow] ?? cellText(report.workflow, l.cellChars);
  const title = `<h2>oc-mirror ${workflow}: ${code(report.destination, l.cellChars)}</h2>`;
  const total = report.images.length;
  if (total === 0) return `${title}\n\n<p>No images to mirror; took ${formatDuration(extras.durationMs)}.</p>`;
  const n = { mirrored: 0, present: 0, failed: 0, skipped: 0 };
  let bytes = 0;
  for (const image of report.images) {
    n[image.status]++;
    bytes += image.bytes ?? 0;
  }
  const ok = n.mirrored + n.present;
  const details = [`${formatCount(n.mirrored)} copied`, `${formatCount(n.present)} already there`];
  if (n.failed) details.push(`${formatCount(n.failed)} failed`);
  if (n.skipped) details.push(`${formatCount(n.skipped)} skipped`);
  const seconds = extras.durationMs / 1000;
  const throughput = seconds > 0 ? `${formatBytes(Math.round(bytes / seconds))}/s` : '—';
  return (
    `${title}\n\n<p>${ok === total ? '✅' : '❌'} <strong>${formatCount(ok)} of ${formatCount(total)}</strong> images mirrored ` +
    `(${details.join(', ')}) · <strong>${formatBytes(bytes)}</strong> transferred in <strong>${formatDuration(extras.durationMs)}</strong> · ${throughput}</p>`
  );
}

/** Results per origin, as oc-mirror's `=== Results ===` block, with a total row when there are several. */
function originTable(report: RunReport): string {
  const counts = summarize(report);
  const present = ORIGINS.filter((o) => counts[o].total > 0);
  const row = (label: string, c: OriginCounts): string => {
    const ok = c.mirrored + c.present;
    const cells = [ok === c.total ? '✅' : '❌', label, `${formatCount(ok)} / ${formatCount(c.total)}`, formatCount(c.mirrored), formatCount(c.present), formatCount(c.failed), formatCount(c.skipped), formatBytes(c.bytes)];
    return `<tr>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>\n`;
  };
  let body = present.map((o) => row(o, counts[o])).join('');
  if (present.length > 1) {
    const total = present.reduce(
      (t, o) => ({
        total: t.total + counts[o].total,
        mirrored: t.mirrored + counts[o].mirrored,
        present: t.present + counts[o].present,
        failed: t.failed + counts[o].failed,
        skipped: t.skipped + counts[o].skipped,
        bytes: t.bytes + counts[o].bytes,
      }),
      { total: 0, mirrored: 0, present: 0, failed: 0, skipped: 0, bytes: 0 },
    );
    body += row('<strong>total</strong>', total);
  }
  const head = ['', 'Origin', 'Mirrored', 'Copied', 'Already there', 'Failed', 'Skipped', 'Transferred'];
  return `<table>\n<thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead>\n<tbody>\n${body}</tbody>\n</table>`;
}

function reasonOf(image: ImageResult): string {
  if (image.error !== undefined) return image.error;
  if (image.status === 'failed') return 'unknown error';
  return image.task.kind === 'operatorBundle' ? 'skipped: one of its related images failed to mirror' : 'skipped after an earlier failure';
}

/** The bundles, packages, release or chart an image is needed by: what its failure breaks. */
function breaks(m: Membership | undefined, maxChars: number): string {
  const parts: string[] = [];
  if (m?.operators?.bundles.length) parts.push(`bundles ${codeList(m.operators.bundles, maxChars)}`);
  if (m?.operators?.packages.length) parts.push(`packages ${codeList(m.operators.packages, maxChars)}`);
  if (m?.release) parts.push(`release ${code(m.release, maxChars)}`);
  if (m?.chart) parts.push(`chart ${code(m.chart, maxChars)}`);
  return parts.length > 0 ? parts.join('; ') : '—';
}

/** A few names in code, then how many more: an image shared by 500 bundles must not fill a cell. */
function codeList(names: readonly string[], maxChars: number, shown = 10): string {
  const listed = names.slice(0, shown).map((n) => code(n, maxChars));
  return names.length > shown ? `${listed.join(', ')} and ${formatCount(names.length - shown)} more` : listed.join(', ');
}

function fullListNote(artifactName: string | undefined, maxChars: number): string {
  return artifactName
    ? `(full list in the artifact ${code(artifactName, maxChars)})`
    : '(full list in working-dir/logs: report_*.json, mirroring_errors_*.txt)';
}

/**
 * The job summary of the plan action: what would be mirrored, grouped by origin and by release,
 * operator package, helm chart; sizes where known; what changed since the previous plan of the
 * same configuration (by taskKey: an image is its source).
 */
export function renderPlanSummary(plan: Plan, previous?: Plan, sizes?: TaskSizes, limits: Partial<SummaryLimits> = {}): string {
  const l = { ...DEFAULT_SUMMARY_LIMITS, ...limits };
  const out = new Sections(l.maxBytes);
  const where = plan.destination === PLAN_PLACEHOLDER_DESTINATION ? '(no destination given)' : `to ${code(plan.destination, l.cellChars)}`;
  const all = knownBytes(plan.tasks, sizes);
  out.add(
    `<h2>oc-mirror plan: ${formatCount(plan.tasks.length)} images ${where}</h2>\n\n` +
      `<p>Known size: <strong>${sizeText(all)}</strong>${all.unknown > 0 && all.bytes > 0 ? ` (${formatCount(all.unknown)} images of unknown size not counted)` : ''}</p>`,
  );
  if (plan.tasks.length > 0) out.add(planOriginTable(plan, sizes));

  const groups = planGroups(plan.tasks, l.cellChars);
  if (groups.length > 0) {
    out.addSection('<h3>By release, operator package, chart</h3>', 0.4, {
      headers: ['Origin', 'Group', 'Images', 'Size'],
      rows: groups,
      cells: (g) => [g.origin, g.label, formatCount(g.tasks.length), sizeText(knownBytes(g.tasks, sizes))],
      maxRows: l.listRows,
      more: (n) => `… and ${formatCount(n)} more groups`,
    });
  }

  out.add(diffHeading(plan, previous));
  if (previous) {
    const { added, removed } = planDiff(plan, previous);
    const diffTable = (title: string, tasks: CopyTask[], share: number): void => {
      if (tasks.length === 0) return;
      out.addSection(`<h4>${title} (${formatCount(tasks.length)})</h4>`, share, {
        headers: ['Image', 'Origin', 'Size'],
        rows: tasks,
        cells: (t) => [code(t.source, l.cellChars), t.origin, sizeOf(t, sizes)],
        maxRows: l.listRows,
        more: (n) => `… and ${formatCount(n)} more`,
      });
    };
    diffTable('Added', added, 0.35);
    diffTable('Removed', removed, 0.35);
  }

  if (plan.tasks.length > 0) {
    out.addSection(`<h3>Images (${formatCount(plan.tasks.length)})</h3>`, 1, {
      headers: ['Image', 'Destination', 'Origin', 'Size'],
      rows: plan.tasks,
      cells: (t) => [code(t.source, l.cellChars), code(t.destination, l.cellChars), t.origin, sizeOf(t, sizes)],
      maxRows: l.imageRows,
      more: (n) => `… and ${formatCount(n)} more (full list in mapping.txt)`,
    });
  }
  return out.toString();
}

function sizeText({ bytes, unknown }: { bytes: number; unknown: number }): string {
  if (unknown > 0 && bytes === 0) return '—';
  return unknown > 0 ? `≥ ${formatBytes(bytes)}` : formatBytes(bytes);
}

function sizeOf(task: CopyTask, sizes: TaskSizes | undefined): string {
  const size = sizes?.get(taskKey(task));
  return size === undefined ? '—' : formatBytes(size);
}

function planOriginTable(plan: Plan, sizes: TaskSizes | undefined): string {
  const rows = ORIGINS.map((o) => ({ o, tasks: plan.tasks.filter((t) => t.origin === o) })).filter((r) => r.tasks.length > 0);
  const body = rows.map((r) => `<tr><td>${r.o}</td><td>${formatCount(r.tasks.length)}</td><td>${sizeText(knownBytes(r.tasks, sizes))}</td></tr>\n`).join('');
  return `<table>\n<thead><tr><th>Origin</th><th>Images</th><th>Size</th></tr></thead>\n<tbody>\n${body}</tbody>\n</table>`;
}

interface PlanGroup {
  origin: Origin;
  /** HTML */
  label: string;
  tasks: CopyTask[];
}

/**
 * Groups in origin order, each in first-seen order. An image several operator packages need is
 * listed under each of them, as each would break without it.
 */
function planGroups(tasks: readonly CopyTask[], maxChars: number): PlanGroup[] {
  const groups = new Map<string, PlanGroup & { bundles: string[] }>();
  const put = (key: string, origin: Origin, label: string, task: CopyTask): void => {
    let g = groups.get(key);
    if (!g) {
      g = { origin, label, tasks: [], bundles: [] };
      groups.set(key, g);
    }
    g.tasks.push(task);
    if (task.kind === 'operatorBundle') g.bundles.push(...(task.belongsTo?.operators?.bundles ?? []));
  };
  for (const task of tasks) {
    const m = task.belongsTo;
    switch (task.origin) {
      case 'release':
        if (m?.release) put(`release ${m.release}`, 'release', `release ${code(m.release, maxChars)}`, task);
        else put(`release ${task.kind}`, 'release', task.kind === 'cincinnatiGraph' ? 'graph data image' : 'release images', task);
        break;
      case 'operator': {
        const packages = m?.operators?.packages ?? [];
        if (task.kind === 'operatorCatalog') put('catalogs', 'operator', 'catalogs', task);
        else if (packages.length === 0) put('operator other', 'operator', 'images of no package', task);
        for (const pkg of task.kind === 'operatorCatalog' ? [] : packages) {
          const catalog = m?.operators?.catalog ?? '';
          put(`operator ${catalog} ${pkg}`, 'operator', `package ${code(pkg, maxChars)}${catalog ? ` from ${code(catalog, maxChars)}` : ''}`, task);
        }
        break;
      }
      case 'helm':
        if (m?.chart) put(`chart ${m.chart}`, 'helm', `chart ${code(m.chart, maxChars)}`, task);
        else put('helm other', 'helm', 'helm images', task);
        break;
      case 'additional':
        put('additional', 'additional', 'additional images', task);
        break;
    }
  }
  const rank = (o: Origin): number => ORIGINS.indexOf(o);
  return [...groups.values()]
    .map((g) => ({
      origin: g.origin,
      label: g.bundles.length > 0 ? `${g.label}: bundles ${codeList([...new Set(g.bundles)], maxChars)}` : g.label,
      tasks: g.tasks,
    }))
    .sort((a, b) => rank(a.origin) - rank(b.origin));
}

/** Images (by taskKey) in one plan and not the other, each in its plan's order. */
export function planDiff(plan: Plan, previous: Plan): { added: CopyTask[]; removed: CopyTask[]; unchanged: number } {
  const before = new Set(previous.tasks.map(taskKey));
  const now = new Set(plan.tasks.map(taskKey));
  const firstOf = (tasks: readonly CopyTask[], keep: (key: string) => boolean): CopyTask[] => {
    const seen = new Set<string>();
    return tasks.filter((t) => {
      const key = taskKey(t);
      if (seen.has(key) || !keep(key)) return false;
      seen.add(key);
      return true;
    });
  };
  const added = firstOf(plan.tasks, (k) => !before.has(k));
  const removed = firstOf(previous.tasks, (k) => !now.has(k));
  return { added, removed, unchanged: now.size - added.length };
}

function diffHeading(plan: Plan, previous: Plan | undefined): string {
  if (!previous) return '<h3>Changes since the last plan</h3>\n\n<p>No earlier plan of this configuration to compare with.</p>';
  const { added, removed, unchanged } = planDiff(plan, previous);
  if (added.length === 0 && removed.length === 0) return `<h3>Changes since the last plan</h3>\n\n<p>None: the same ${formatCount(unchanged)} images.</p>`;
  return `<h3>Changes since the last plan</h3>\n\n<p>${formatCount(added.length)} added, ${formatCount(removed.length)} removed, ${formatCount(unchanged)} unchanged.</p>`;
}

/**
 * The summary being assembled, in display order, against its byte budget. Fixed parts are small
 * and bounded (cell texts are cut); tables take a share of what is left when they are added.
 */
class Sections {
  private readonly parts: string[] = [];
  private used = 0;

  constructor(private readonly maxBytes: number) {}

  add(html: string): void {
    if (!html) return;
    this.parts.push(html);
    this.used += bytesOf(html) + SEPARATOR_BYTES;
  }

  /** A heading and its table, within `share` of the remaining budget; left out when not even the header fits. */
  addSection<T>(heading: string, share: number, table: TableSpec<T>): void {
    const budget = Math.floor((this.maxBytes - this.used) * share) - bytesOf(heading) - 2 * SEPARATOR_BYTES;
    const html = budget > 0 ? budgetedTable(table, budget) : '';
    if (html) this.add(`${heading}\n\n${html}`);
  }

  toString(): string {
    const text = `${this.parts.join('\n\n')}\n`;
    // Fixed parts are bounded by the cell limits, so this means limits far below any sensible value.
    if (bytesOf(text) > this.maxBytes) throw new RangeError(`summary of ${bytesOf(text)} bytes exceeds its limit of ${this.maxBytes}`);
    return text;
  }
}

const SEPARATOR_BYTES = 2;
