/** Masterminds/semver v3 as Sprig exposes it: lenient versions and Helm's constraint syntax. */

const VERSION = /^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/** A parsed version; its fields read like the Go methods charts call (`(semver "1.2.3").Major`). */
export class SemverVersion {
  static readonly goType = '*semver.Version';
  readonly Major: bigint;
  readonly Minor: bigint;
  readonly Patch: bigint;
  readonly Prerelease: string;
  readonly Metadata: string;
  readonly Original: string;

  constructor(text: string) {
    const m = VERSION.exec(text);
    if (!m) throw new Error('Invalid Semantic Version');
    this.Major = BigInt(m[1]!);
    this.Minor = BigInt(m[2]?.slice(1) ?? 0);
    this.Patch = BigInt(m[3]?.slice(1) ?? 0);
    this.Prerelease = m[4] ?? '';
    this.Metadata = m[5] ?? '';
    this.Original = text;
  }

  Compare(other: SemverVersion): bigint {
    return BigInt(compareVersions(this, other));
  }
  LessThan(other: SemverVersion): boolean {
    return compareVersions(this, other) < 0;
  }
  GreaterThan(other: SemverVersion): boolean {
    return compareVersions(this, other) > 0;
  }
  Equal(other: SemverVersion): boolean {
    return compareVersions(this, other) === 0;
  }
  String(): string {
    return this.toString();
  }
  toString(): string {
    return `${this.Major}.${this.Minor}.${this.Patch}${this.Prerelease ? `-${this.Prerelease}` : ''}${this.Metadata ? `+${this.Metadata}` : ''}`;
  }
}

function compareVersions(a: SemverVersion, b: SemverVersion): number {
  for (const k of ['Major', 'Minor', 'Patch'] as const) {
    if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  }
  return comparePrerelease(a.Prerelease, b.Prerelease);
}

function comparePrerelease(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return BigInt(x) < BigInt(y) ? -1 : 1;
    if (nx) return -1;
    if (ny) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

const CV = String.raw`v?([0-9xX*]+)(\.[0-9xX*]+)?(\.[0-9xX*]+)?(-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?`;
const CV_PLAIN = CV.replace(/\((?!\?)/g, '(?:');
const OPS = String.raw`!=|>=|=>|<=|=<|~>|=|>|<|~|\^|`;
const ONE = new RegExp(String.raw`^\s*(${OPS})\s*(${CV})\s*$`);
const FIND = new RegExp(String.raw`(?:${OPS})\s*${CV_PLAIN}`, 'g');
const VALID = new RegExp(String.raw`^\s*(?:${OPS})\s*${CV_PLAIN}\s*(?:(?:\s+|,\s*)(?:${OPS})\s*${CV_PLAIN}\s*)*$`);
const RANGE = new RegExp(String.raw`\s*(${CV_PLAIN})\s+-\s+(${CV_PLAIN})\s*`, 'g');

interface Constraint {
  op: string;
  orig: string;
  con: SemverVersion;
  dirty: boolean;
  minorDirty: boolean;
  patchDirty: boolean;
}

const isX = (s: string | undefined): boolean => s === 'x' || s === 'X' || s === '*';

function parseOne(text: string): Constraint {
  const m = ONE.exec(text);
  if (!m) throw new Error(`improper constraint: ${text}`);
  const [, op = '', orig = '', major = '', minorPart = '', patchPart = '', pre = ''] = m;
  const minor = minorPart.slice(1);
  const patch = patchPart.slice(1);
  let ver = orig;
  let dirty = false;
  let minorDirty = false;
  let patchDirty = false;
  // Missing or wildcard parts make the constraint a range over them.
  if (isX(major) || major === '') {
    ver = `0.0.0${pre}`;
    dirty = true;
  } else if (isX(minor) || minorPart === '') {
    ver = `${major}.0.0${pre}`;
    dirty = minorDirty = true;
  } else if (isX(patch) || patchPart === '') {
    ver = `${major}.${minor}.0${pre}`;
    dirty = patchDirty = true;
  }
  return { op, orig, con: new SemverVersion(ver), dirty, minorDirty, patchDirty };
}

function check(v: SemverVersion, c: Constraint): boolean {
  // A prerelease only satisfies constraints that mention a prerelease themselves.
  if (v.Prerelease !== '' && c.con.Prerelease === '') return false;
  const cmp = compareVersions(v, c.con);
  switch (c.op) {
    case '':
    case '=':
      return c.dirty ? tilde(v, c) : cmp === 0;
    case '!=':
      if (!c.dirty) return cmp !== 0;
      if (v.Major !== c.con.Major) return true;
      if (c.minorDirty) return false;
      if (v.Minor !== c.con.Minor) return true;
      if (c.patchDirty) return comparePrerelease(v.Prerelease, c.con.Prerelease) !== 0;
      return v.Patch !== c.con.Patch;
    case '>':
      if (!c.dirty) return cmp > 0;
      if (v.Major !== c.con.Major) return v.Major > c.con.Major;
      if (c.minorDirty) return false;
      if (c.patchDirty) return v.Minor > c.con.Minor;
      return cmp > 0;
    case '<':
      return cmp < 0;
    case '>=':
    case '=>':
      return cmp >= 0;
    case '<=':
    case '=<':
      if (!c.dirty) return cmp <= 0;
      if (v.Major > c.con.Major) return false;
      return !(v.Major === c.con.Major && v.Minor > c.con.Minor && !c.minorDirty);
    case '~':
    case '~>':
      return tilde(v, c);
    case '^':
      return caret(v, c, cmp);
  }
  return false;
}

function tilde(v: SemverVersion, c: Constraint): boolean {
  if (compareVersions(v, c.con) < 0) return false;
  if (c.con.Major === 0n && c.con.Minor === 0n && c.con.Patch === 0n && !c.minorDirty && !c.patchDirty) return true;
  if (v.Major !== c.con.Major) return false;
  return v.Minor === c.con.Minor || c.minorDirty;
}

function caret(v: SemverVersion, c: Constraint, cmp: number): boolean {
  if (cmp < 0) return false;
  if (c.con.Major > 0n || c.minorDirty) return v.Major === c.con.Major;
  if (v.Major > 0n) return false;
  if (c.con.Minor > 0n || c.patchDirty) return v.Minor === c.con.Minor;
  if (v.Minor > 0n) return false;
  return v.Patch === c.con.Patch;
}

/** A constraint such as `>=1.21.0-0`, `^1.2 || ~2.3`, `1.x`, `1.2 - 1.4.5`, `>1, <3`. */
export function parseConstraints(text: string): Constraint[][] {
  const rewritten = text.replace(RANGE, (_all, lo: string, hi: string) => `>= ${lo}, <= ${hi}`);
  return rewritten.split('||').map((part) => {
    if (!VALID.test(part)) throw new Error(`improper constraint: ${part}`);
    const found = part.match(FIND) ?? [part];
    return found.map(parseOne);
  });
}

/** Sprig's semverCompare: whether `version` satisfies `constraint`. */
export function semverCompare(constraint: string, version: string): boolean {
  const cs = parseConstraints(constraint);
  const v = new SemverVersion(version);
  return cs.some((and) => and.every((c) => check(v, c)));
}
