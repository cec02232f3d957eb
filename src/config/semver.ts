/**
 * Versions in the config (operator and release ranges) are parsed by oc-mirror with Masterminds
 * `semver.NewVersion`, which is looser than semver.org: a leading `v` and missing minor/patch are
 * allowed (`v1.2`, `1`). npm's `semver.valid` would refuse `1.2` and `semver.coerce` would accept
 * `4.x` (as 4.0.0), so neither gives oc-mirror's answer; this grammar does.
 */
// Recent Masterminds releases refuse leading zeros in major/minor/patch, like semver.org.
const NUMBER = '(0|[1-9][0-9]*)';
const IDENTIFIER = '[0-9A-Za-z-]+';
const LOOSE_SEMVER_RE = new RegExp(
  `^v?${NUMBER}(?:\\.${NUMBER})?(?:\\.${NUMBER})?` +
    `(?:-(${IDENTIFIER}(?:\\.${IDENTIFIER})*))?` +
    `(?:\\+(${IDENTIFIER}(?:\\.${IDENTIFIER})*))?$`,
);

interface LooseVersion {
  major: number;
  minor: number;
  patch: number;
  prerelease?: string;
  build?: string;
}

function parseLoose(version: string): LooseVersion | undefined {
  const m = LOOSE_SEMVER_RE.exec(version);
  if (!m) return undefined;
  const [, major, minor, patch, prerelease, build] = m;
  // Masterminds refuses numeric prerelease identifiers with a leading zero, as semver.org does.
  if (prerelease?.split('.').some((id) => /^0[0-9]+$/.test(id))) return undefined;
  const numbers = [major, minor ?? '0', patch ?? '0'].map(Number);
  if (numbers.some((n) => !Number.isSafeInteger(n))) return undefined;
  return {
    major: numbers[0]!,
    minor: numbers[1]!,
    patch: numbers[2]!,
    ...(prerelease !== undefined && { prerelease }),
    ...(build !== undefined && { build }),
  };
}

/** True when oc-mirror (Masterminds `NewVersion`) accepts the string: `v1.2.3`, `1.2.3`, `1.2`, `1`, `1.2.3-rc.1+b`. */
export function isSemverLike(version: string): boolean {
  return parseLoose(version) !== undefined;
}

/**
 * The strict semver.org form of a version `isSemverLike` accepts (`v4.18` → `4.18.0`), for code
 * that compares with npm `semver`; undefined when the string is not semver-like.
 */
export function normalizeSemver(version: string): string | undefined {
  const v = parseLoose(version);
  if (!v) return undefined;
  return `${v.major}.${v.minor}.${v.patch}${v.prerelease ? `-${v.prerelease}` : ''}${v.build ? `+${v.build}` : ''}`;
}
