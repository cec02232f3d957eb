import { errorMessage } from '../errors.js';
import { isValidRepositoryPath, isValidTag, parseReference } from '../image/reference.js';
import { tryCompileBlockedPattern } from './blocked.js';
import { isSemverLike } from './semver.js';
import { API_VERSION, ARCHITECTURES, CHANNEL_TYPES } from './types.js';
import type { ValueCheck } from './walk.js';

/** Checks of single values, referenced by the schema table; each returns the problem or undefined. */

const OCI_PREFIX = 'oci:';

/**
 * oc-mirror does not look at apiVersion at all (a v1alpha2 file with only known fields loads).
 * We are stricter: a file written for another API version is more likely to mean something else
 * than to work, so only v2alpha1 (or no apiVersion) is accepted.
 */
export const apiVersion: ValueCheck<string> = (v) =>
  v === API_VERSION ? undefined : `"${v}" is not supported (expected ${API_VERSION})`;

export const semver: ValueCheck<string> = (v) => (isSemverLike(v) ? undefined : `"${v}" is not a semantic version`);

export const repositoryPath: ValueCheck<string> = (v) =>
  isValidRepositoryPath(v)
    ? undefined
    : `"${v}" is not a valid repository path: it must not contain a tag or digest, and each /-separated component is lower-case letters and digits joined by . _ or -`;

export const tag: ValueCheck<string> = (v) =>
  isValidTag(v) ? undefined : `"${v}" is not a valid tag (up to 128 letters, digits, _ . -, not starting with . or -)`;

export const architecture: ValueCheck<string> = (v) =>
  (ARCHITECTURES as readonly string[]).includes(v) ? undefined : `"${v}" is not one of ${ARCHITECTURES.join(', ')}`;

/** oc-mirror silently treats an unknown channel type as ocp; a typo of `okd` would then mirror the wrong product. */
export const channelType: ValueCheck<string> = (v) =>
  (CHANNEL_TYPES as readonly string[]).includes(v) ? undefined : `"${v}" is not ${CHANNEL_TYPES.join(' or ')}`;

/** oc-mirror reads 0 as "the default" (500 GiB), so 0 stays valid for drop-in compatibility. */
export const archiveSize: ValueCheck<number> = (v) =>
  v >= 0 ? undefined : `must be a positive number of GiB, got ${v} (leave it out, or 0, for the default)`;

/** The reason parseReference gives, without the reference it repeats at its start. */
function referenceProblem(name: string): string | undefined {
  try {
    parseReference(name);
    return undefined;
  } catch (err) {
    const message = errorMessage(err);
    const reason = message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message;
    return `"${name}" is not a valid image reference: ${reason}`;
  }
}

/** A catalog is a docker reference or an `oci:` path to a local OCI layout (which oc-mirror supports). */
export const catalog: ValueCheck<string> = (v) => {
  if (v.startsWith(OCI_PREFIX)) return v.length > OCI_PREFIX.length ? undefined : `"${v}" has no path`;
  return referenceProblem(v);
};

/**
 * oc-mirror refuses additional images without a tag or digest (its docs say `latest` is implied;
 * its code disagrees, ref §17), and we follow the code. `oci:` sources are valid for oc-mirror
 * but the copy engine cannot read them yet, so they are refused here rather than half-way through a run.
 */
export const additionalImage: ValueCheck<string> = (v) => {
  if (v.startsWith(OCI_PREFIX)) return 'oci: sources are not supported yet';
  const problem = referenceProblem(v);
  if (problem) return problem;
  const ref = parseReference(v);
  return ref.tag === undefined && ref.digest === undefined ? `"${v}" has no tag or digest` : undefined;
};

export const blockedPattern: ValueCheck<string> = (v) => {
  const result = tryCompileBlockedPattern(v);
  return 'reason' in result ? `"${v}" is not a valid regular expression: ${result.reason}` : undefined;
};

export const url: ValueCheck<string> = (v) => (URL.canParse(v) ? undefined : `"${v}" is not a valid URL`);
