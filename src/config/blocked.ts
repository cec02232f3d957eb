import { ConfigError } from '../errors.js';
import { tryCompileGoRegExp, type GoRegExpCompilation } from '../go-regexp.js';

/**
 * `blockedImages[].name` is a Go (RE2) regular expression that oc-mirror matches unanchored
 * against an image's source and destination (ref §10.2), translated once (src/go-regexp.ts) so
 * that config validation and the planner agree on what a pattern means.
 */
export type BlockedPatternCompilation = GoRegExpCompilation;

/** Compiles a blocked-image pattern, or says why it does not compile. */
export function tryCompileBlockedPattern(name: string): BlockedPatternCompilation {
  return tryCompileGoRegExp(name);
}

/**
 * The RegExp for a `blockedImages[].name`, to be tested (unanchored, as Go's `MatchString`)
 * against image references without their `xxx://` prefix. Throws ConfigError when the pattern
 * does not compile; a loaded configuration has already been checked, so that means a bug.
 */
export function compileBlockedPattern(name: string): RegExp {
  const result = tryCompileBlockedPattern(name);
  if ('reason' in result) throw new ConfigError(`blocked image "${name}": invalid regular expression: ${result.reason}`);
  return result.regexp;
}
