/**
 * `n`/`last` pagination of the catalog and tag lists, as the distribution spec describes it:
 * entries sorted lexically, those after `last`, at most `n` of them, and a `Link: <...>; rel="next"`
 * header when more remain.
 */
import { ApiError } from './api-errors.js';

export interface Page {
  entries: string[];
  /** value for the Link header when there are more entries, else undefined */
  link?: string;
}

/**
 * `all` need not be sorted. Without `n` everything after `last` is returned (the OCI spec allows
 * it, and clients that do not paginate then see every entry).
 */
export function paginate(all: string[], query: URLSearchParams, path: string): Page {
  const nText = query.get('n');
  const last = query.get('last') ?? '';
  let limit: number | undefined;
  if (nText !== null && nText !== '') {
    if (!/^\d+$/.test(nText)) throw new ApiError('PAGINATION_NUMBER_INVALID', { n: nText });
    limit = Number(nText);
  }
  const sorted = [...all].sort(compareCodeUnits);
  const after = last === '' ? sorted : sorted.filter((e) => compareCodeUnits(e, last) > 0);
  if (limit === undefined || after.length <= limit) return { entries: after };
  const entries = after.slice(0, limit);
  if (entries.length === 0) return { entries };
  const next = new URLSearchParams({ last: entries[entries.length - 1]!, n: String(limit) });
  return { entries, link: `<${path}?${next.toString()}>; rel="next"` };
}

/** Byte order, as Go's sort.Strings: independent of the locale. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
