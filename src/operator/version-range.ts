/**
 * Versions and ranges of operator bundles. Bundle versions (the `olm.package` property) are
 * semver.org versions; ranges are written in the syntax OLM reads for `skipRange` and
 * `olm.package.required` (blang/semver `ParseRange`): comparators `>=`, `<=`, `>`, `<`, `=`,
 * `==`, `!=`, `!` (or none: equality), ANDed by whitespace and ORed by `||`; `x`, `X`, `*` and
 * missing minor/patch are wildcards (`<=1.2` means below 1.3.0). Versions compare by semver
 * precedence alone: a prerelease sits just below its release and is never excluded (OLM
 * compares this way, unlike npm's and Masterminds' range matching).
 */
import semver from 'semver';
import { normalizeSemver } from '../config/semver.js';

export type Version = semver.SemVer;

/** A bundle version, or undefined when it is not semver (a leading `v` is tolerated). */
export function parseVersion(text: string): Version | undefined {
  const strict = semver.parse(text);
  if (strict) return strict;
  const normal = normalizeSemver(text.trim());
  return normal ? (semver.parse(normal) ?? undefined) : undefined;
}

export function compareVersions(a: Version, b: Version): number {
  return semver.compare(a, b);
}

export interface VersionRange {
  /** the range as written, for messages */
  readonly text: string;
  matches(version: Version): boolean;
}

export class VersionRangeError extends Error {
  override name = 'VersionRangeError';
}

interface Bound {
  version: Version;
  inclusive: boolean;
}

/** One comparator: an interval (either end open), optionally negated (`!=`). */
interface Comparator {
  low?: Bound;
  high?: Bound;
  negate: boolean;
}

const OPERATORS = ['>=', '<=', '!=', '==', '>', '<', '=', '!'] as const;
type Operator = (typeof OPERATORS)[number];

/** Parses a blang-style range; throws VersionRangeError naming the part that does not parse. */
export function parseVersionRange(text: string): VersionRange {
  const alternatives = text.split('||').map((alternative) => parseConjunction(alternative, text));
  return {
    text: text.trim(),
    matches: (version) => alternatives.some((all) => all.every((c) => comparatorMatches(c, version))),
  };
}

/** The range of a configuration's minVersion/maxVersion (both inclusive); undefined when neither is set. */
export function configRange(minVersion: string | undefined, maxVersion: string | undefined): VersionRange | undefined {
  const parts: string[] = [];
  if (minVersion) parts.push(`>=${minVersion}`);
  if (maxVersion) parts.push(`<=${maxVersion}`);
  if (parts.length === 0) return undefined;
  const low = minVersion ? requireVersion(minVersion) : undefined;
  const high = maxVersion ? requireVersion(maxVersion) : undefined;
  return {
    text: parts.join(' '),
    matches: (v) => (!low || semver.gte(v, low)) && (!high || semver.lte(v, high)),
  };
}

function requireVersion(text: string): Version {
  const v = parseVersion(text);
  if (!v) throw new VersionRangeError(`"${text}" is not a semantic version`);
  return v;
}

function parseConjunction(alternative: string, whole: string): Comparator[] {
  const tokens = alternative.trim().split(/\s+/).filter(Boolean);
  if (tokens.length === 0) throw new VersionRangeError(`empty alternative in range "${whole}"`);
  const comparators: Comparator[] = [];
  for (let i = 0; i < tokens.length; i++) {
    let token = tokens[i]!;
    // `>= 1.2.3`: an operator standing alone takes the next token as its version.
    if ((OPERATORS as readonly string[]).includes(token)) {
      const next = tokens[++i];
      if (next === undefined) throw new VersionRangeError(`"${token}" without a version in range "${whole}"`);
      token += next;
    }
    comparators.push(...parseComparator(token, whole));
  }
  return comparators;
}

function parseComparator(token: string, whole: string): Comparator[] {
  const op: Operator = OPERATORS.find((o) => token.startsWith(o)) ?? '=';
  const versionText = token.startsWith(op) ? token.slice(op.length) : token;
  const m = /^v?([0-9]+|[xX*])(?:\.([0-9]+|[xX*]))?(?:\.([0-9]+|[xX*]))?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.exec(versionText);
  if (!m) throw new VersionRangeError(`"${token}" is not a version comparator in range "${whole}"`);
  const [, majorText, minorText, patchText, prerelease = '', build = ''] = m;
  const wild = (part: string | undefined): boolean => part === undefined || /^[xX*]$/.test(part);
  const parts = [majorText, minorText, patchText];
  // The first wildcard position: everything from there on is free.
  const free = parts.findIndex((p) => wild(p));
  if (free !== -1 && parts.slice(free).some((p) => !wild(p))) {
    throw new VersionRangeError(`"${token}" has a number after a wildcard in range "${whole}"`);
  }
  if (free === -1) {
    const version = semver.parse(`${majorText}.${minorText}.${patchText}${prerelease}${build}`);
    if (!version) throw new VersionRangeError(`"${token}" is not a semantic version in range "${whole}"`);
    return [exact(op, version)];
  }
  if (prerelease) throw new VersionRangeError(`"${token}" mixes a wildcard and a prerelease in range "${whole}"`);
  if (free === 0) {
    // `*`: everything (or nothing, for the comparisons that exclude it).
    return op === '!=' || op === '!' || op === '<' || op === '>' ? [{ negate: true }] : [{ negate: false }];
  }
  const numbers = parts.slice(0, free).map(Number);
  const low = semver.parse(`${numbers[0]}.${numbers[1] ?? 0}.0`)!;
  const high = free === 1 ? semver.parse(`${numbers[0]! + 1}.0.0`)! : semver.parse(`${numbers[0]}.${numbers[1]! + 1}.0`)!;
  const block: Comparator = { low: { version: low, inclusive: true }, high: { version: high, inclusive: false }, negate: false };
  switch (op) {
    case '>=':
      return [{ low: block.low, negate: false }];
    case '>':
      return [{ low: { version: high, inclusive: true }, negate: false }];
    case '<':
      return [{ high: { version: low, inclusive: false }, negate: false }];
    case '<=':
      return [{ high: block.high, negate: false }];
    case '!=':
    case '!':
      return [{ ...block, negate: true }];
    default:
      return [block];
  }
}

function exact(op: Operator, version: Version): Comparator {
  switch (op) {
    case '>=':
      return { low: { version, inclusive: true }, negate: false };
    case '>':
      return { low: { version, inclusive: false }, negate: false };
    case '<=':
      return { high: { version, inclusive: true }, negate: false };
    case '<':
      return { high: { version, inclusive: false }, negate: false };
    case '!=':
    case '!':
      return { low: { version, inclusive: true }, high: { version, inclusive: true }, negate: true };
    default:
      return { low: { version, inclusive: true }, high: { version, inclusive: true }, negate: false };
  }
}

function comparatorMatches(c: Comparator, v: Version): boolean {
  let inside = true;
  if (c.low) {
    const cmp = semver.compare(v, c.low.version);
    inside &&= c.low.inclusive ? cmp >= 0 : cmp > 0;
  }
  if (c.high) {
    const cmp = semver.compare(v, c.high.version);
    inside &&= c.high.inclusive ? cmp <= 0 : cmp < 0;
  }
  return inside !== c.negate;
}
