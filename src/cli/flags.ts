import { UsageError } from '../errors.js';

/** What a flag takes; booleans accept `--x`, `--x=true` and `--x=false` as pflag does. */
type FlagKind = 'string' | 'bool' | 'int' | 'duration';

export interface FlagSpec {
  name: string;
  short?: string;
  kind: FlagKind;
  help: string;
  /** set when the flag exists in oc-mirror but its feature is not built here yet: it is refused */
  notSupported?: string;
  hidden?: boolean;
}

export type FlagValues = Record<string, string | boolean | number | undefined>;

export interface ParsedArgs {
  flags: FlagValues;
  positional: string[];
}

/**
 * Parses pflag-style arguments against a table. Unknown flags and flags of unbuilt features are
 * errors, never ignored.
 */
export function parseArgs(argv: string[], specs: FlagSpec[]): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const flags: FlagValues = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    const body = arg.slice(long ? 2 : 1);
    const eq = body.indexOf('=');
    const key = eq >= 0 ? body.slice(0, eq) : body;
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    const spec = long ? byName.get(key) : byShort.get(key);
    if (!spec) throw new UsageError(`unknown flag: ${long ? '--' : '-'}${key}`);
    if (spec.notSupported) throw new UsageError(`flag --${spec.name} is not supported: ${spec.notSupported}`);
    if (spec.kind === 'bool') {
      if (value === undefined) flags[spec.name] = true;
      else if (value === 'true' || value === 'false') flags[spec.name] = value === 'true';
      else throw new UsageError(`invalid argument "${value}" for "--${spec.name}" flag: must be true or false`);
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`flag needs an argument: --${spec.name}`);
    }
    flags[spec.name] = convert(spec, value);
  }
  return { flags, positional };
}

function convert(spec: FlagSpec, value: string): string | number {
  switch (spec.kind) {
    case 'string':
      return value;
    case 'int': {
      if (!/^-?\d+$/.test(value)) throw new UsageError(`invalid argument "${value}" for "--${spec.name}" flag: must be a whole number`);
      return Number(value);
    }
    case 'duration':
      return parseDuration(value, spec.name);
    case 'bool':
      return value;
  }
}

/** Go's time.ParseDuration syntax (`90s`, `1m30s`, `500ms`, `2h`), plus a bare `0`. Returns milliseconds. */
export function parseDuration(value: string, flag: string): number {
  if (value === '0') return 0;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (consumed !== value.length || consumed === 0) {
    throw new UsageError(`invalid argument "${value}" for "--${flag}" flag: not a duration (examples: 30s, 10m, 1h30m)`);
  }
  return Math.round(total);
}
