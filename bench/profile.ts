/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function and per
 * category (our code, undici, node internals, GC, idle), so a slow run can be explained without
 * opening Chrome DevTools.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  categories: { name: string; ms: number; pct: number }[];
  top: { fn: string; where: string; ms: number; pct: number }[];
}

function category(url: string, fn: string): string {
  if (fn === '(idle)') return 'idle (waiting for I/O)';
  if (fn === '(garbage collector)') return 'garbage collector';
  if (fn === '(program)') return 'program (native, not attributed)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]} internals`;
  if (/undici/.test(url)) return 'undici';
  if (url === '') return `native/${fn || 'anonymous'}`;
  return 'bundle (our code + bundled deps)';
}

export function summariseProfile(path: string, topN = 20): ProfileSummary {
  const prof = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // samples[i] ran for timeDeltas[i + 1] (the delta to the next sample)
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i + 1] ?? 0;
    selfUs.set(prof.samples[i]!, (selfUs.get(prof.samples[i]!) ?? 0) + dt);
  }
  const totalUs = prof.endTime - prof.startTime;
  const perFn = new Map<string, { fn: string; where: string; us: number }>();
  const perCat = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const fn = functionName || '(anonymous)';
    const where = url ? `${url.replace(/^file:\/\/.*\/(dist|node_modules)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const e = perFn.get(key) ?? { fn, where, us: 0 };
    e.us += us;
    perFn.set(key, e);
    const c = category(url, functionName);
    perCat.set(c, (perCat.get(c) ?? 0) + us);
  }
  const pct = (us: number) => Math.round((us / totalUs) * 1000) / 10;
  return {
    totalMs: totalUs / 1000,
    categories: [...perCat].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: Math.round(us / 1000), pct: pct(us) })),
    top: [...perFn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((e) => ({ fn: e.fn, where: e.where, ms: Math.round(e.us / 1000), pct: pct(e.us) })),
  };
}
