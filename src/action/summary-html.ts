/**
 * Building blocks of job summaries. Summaries are written as HTML blocks separated by blank lines:
 * inside a block GitHub does no Markdown, so `|`, `*` or `_` in an image name or an error message
 * cannot turn into table cells or emphasis, and escaping HTML is the only escaping needed. A
 * blank line would end a block early, so no text put in one may contain a newline.
 */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text for a cell: whitespace runs (newlines included) become one space, control characters go,
 * and anything past `maxChars` is cut with `…`, then it is escaped. Only the start of a huge text
 * is looked at.
 */
export function cellText(text: string, maxChars: number): string {
  const head = text.length > maxChars * 2 + 64 ? text.slice(0, maxChars * 2 + 64) : text;
  let flat = head.replace(/\s+/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (flat.length > maxChars || head !== text) flat = `${cutAt(flat, maxChars)}…`;
  return escapeHtml(flat);
}

/** Cuts at most `max` UTF-16 units without splitting a surrogate pair. */
function cutAt(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** Image names and paths in `<code>`: GitHub does not turn `@sha256` in code into a mention. */
export function code(text: string, maxChars: number): string {
  return `<code>${cellText(text, maxChars)}</code>`;
}

export function bytesOf(html: string): number {
  return Buffer.byteLength(html, 'utf8');
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `512 B`, `1.5 GiB`: binary units, as registries and disks report sizes. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** `850 ms`, `12.3 s`, `4m 05s`, `1h 02m 03s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m ${s}s` : `${m}m ${s}s`;
}

/** Counts with thousands separators, the same on every machine. */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export interface TableSpec<T> {
  /** header cells, already HTML */
  headers: readonly string[];
  rows: readonly T[];
  /** cells of one row, already HTML */
  cells(row: T): readonly string[];
  /** at most this many rows are shown */
  maxRows: number;
  /** the note for rows left out, already HTML (`… and 12 more`) */
  more(left: number): string;
}

/**
 * An HTML table of as many rows as fit both `maxRows` and `budget` bytes (the note for the rest
 * included). Rows are rendered only until the table is full, so a huge list costs little. Empty
 * string when not even the header fits.
 */
export function budgetedTable<T>(spec: TableSpec<T>, budget: number): string {
  const head = `<table>\n<thead><tr>${spec.headers.map((h) => `<th>${h}</th>`).join('')}</tr></thead>\n<tbody>\n`;
  const tail = '</tbody>\n</table>';
  const noteRow = (left: number): string => `<tr><td colspan="${spec.headers.length}"><em>${spec.more(left)}</em></td></tr>\n`;
  const total = spec.rows.length;
  // The note is longest when every row is left out; reserving that much keeps it always in budget.
  const reserve = bytesOf(head) + bytesOf(tail) + (total > 0 ? bytesOf(noteRow(total)) : 0);
  if (reserve > budget) return '';
  let used = reserve;
  let body = '';
  let shown = 0;
  for (; shown < total && shown < spec.maxRows; shown++) {
    const row = `<tr>${spec.cells(spec.rows[shown]!).map((c) => `<td>${c}</td>`).join('')}</tr>\n`;
    const size = bytesOf(row);
    if (used + size > budget) break;
    used += size;
    body += row;
  }
  if (shown < total) body += noteRow(total - shown);
  return head + body + tail;
}
