import type { Membership } from './types.js';

/**
 * Merges what two copies of one image belong to, so that a failure names everything it breaks.
 * Operator packages and bundles are unioned (first-seen order). Membership holds a single catalog,
 * release and chart: when two differ the first one is kept, since the type cannot say both.
 */
export function mergeMembership(a: Membership | undefined, b: Membership | undefined): Membership | undefined {
  if (!a) return b && copyMembership(b);
  if (!b) return copyMembership(a);
  const merged: Membership = {};
  const operators = a.operators ?? b.operators;
  if (operators) {
    merged.operators = {
      catalog: operators.catalog,
      packages: union(a.operators?.packages, b.operators?.packages),
      bundles: union(a.operators?.bundles, b.operators?.bundles),
    };
  }
  const release = a.release ?? b.release;
  if (release !== undefined) merged.release = release;
  const chart = a.chart ?? b.chart;
  if (chart !== undefined) merged.chart = chart;
  return merged;
}

function copyMembership(m: Membership): Membership {
  return mergeMembership(m, {})!;
}

function union(a: readonly string[] | undefined, b: readonly string[] | undefined): string[] {
  return [...new Set([...(a ?? []), ...(b ?? [])])];
}
