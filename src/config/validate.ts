import semver from 'semver';
import { catalogUniqueName } from './catalog.js';
import type { Locations } from './locations.js';
import { normalizeSemver } from './semver.js';
import type { Delete, Mirror, Operator, OperatorChannel, OperatorPackage, Platform } from './types.js';

/**
 * The rules that relate several fields (ref §2.3 and the refused scenarios 14–16 of the operator
 * filtering table), run on data the schema walk has already typed. oc-mirror collects all its
 * validation errors; we stop at the first (platform, then operators, each in list order) so the
 * CLI prints one line.
 */
export function validateContent(content: Mirror | Delete, base: 'mirror' | 'delete', at: Locations): void {
  if (content.platform) validatePlatform(content.platform, `${base}.platform`, at);
  validateOperators(content.operators ?? [], `${base}.operators`, at);
}

function validatePlatform(platform: Platform, path: string, at: Locations): void {
  if (platform.platforms?.length && platform.architectures?.length) {
    throw at.error(
      `${path}.platforms`,
      `cannot be used together with ${path}.architectures: platforms selects os/architecture pairs of the multi-arch payload (sparse copy), architectures (deprecated) selects whole per-architecture payloads; keep one`,
    );
  }
  const seen = new Map<string, number>();
  (platform.channels ?? []).forEach((channel, i) => {
    const channelPath = `${path}.channels[${i}]`;
    const first = seen.get(channel.name);
    if (first !== undefined) {
      throw at.error(`${channelPath}.name`, `duplicate release channel "${channel.name}" (first at ${path}.channels[${first}])`);
    }
    seen.set(channel.name, i);
    // Unlike oc-mirror (which panics in its EUS check on such values) the versions were checked
    // to be semantic by the schema; an inverted range would select nothing.
    checkRangeOrder(channel, channelPath, at);
  });
}

function validateOperators(operators: Operator[], path: string, at: Locations): void {
  const seen = new Map<string, number>();
  operators.forEach((op, i) => {
    const opPath = `${path}[${i}]`;
    const name = catalogUniqueName(op);
    const first = seen.get(name);
    if (first !== undefined) {
      throw at.error(`${opPath}.catalog`, `duplicate catalog "${name}" (same catalog, targetCatalog and targetTag as ${path}[${first}])`);
    }
    seen.set(name, i);
    validatePackages(op, opPath, at);
  });
}

function validatePackages(op: Operator, opPath: string, at: Locations): void {
  const seen = new Map<string, number>();
  (op.packages ?? []).forEach((pkg, i) => {
    const pkgPath = `${opPath}.packages[${i}]`;
    const first = seen.get(pkg.name);
    if (first !== undefined) {
      throw at.error(`${pkgPath}.name`, `duplicate package "${pkg.name}" (first at ${opPath}.packages[${first}])`);
    }
    seen.set(pkg.name, i);

    // Scenario 15: the catalog-filter library refuses `Full: true cannot be mixed with versionRange`
    // only once the catalog is downloaded; the answer is already known here.
    const pkgRangeField = rangeField(pkg);
    if (op.full && pkgRangeField) {
      throw at.error(
        `${pkgPath}.${pkgRangeField}`,
        `package "${pkg.name}": a version range cannot be used with full: true on the catalog (full mirrors every version)`,
      );
    }
    checkRangeOrder(pkg, pkgPath, at);
    validatePackageChannels(op, pkg, pkgPath, at);

    if (pkg.defaultChannel && pkg.channels?.length && !pkg.channels.some((ch) => ch.name === pkg.defaultChannel)) {
      // The filter keeps only the listed channels, so this default would not exist in its output.
      throw at.error(
        `${pkgPath}.defaultChannel`,
        `"${pkg.defaultChannel}" is not one of the channels listed for package "${pkg.name}"`,
      );
    }
  });
}

function validatePackageChannels(op: Operator, pkg: OperatorPackage, pkgPath: string, at: Locations): void {
  const seen = new Map<string, number>();
  (pkg.channels ?? []).forEach((channel, i) => {
    const channelPath = `${pkgPath}.channels[${i}]`;
    const first = seen.get(channel.name);
    if (first !== undefined) {
      throw at.error(
        `${channelPath}.name`,
        `duplicate channel "${channel.name}" in package "${pkg.name}" (first at ${pkgPath}.channels[${first}])`,
      );
    }
    seen.set(channel.name, i);

    const channelRangeField = rangeField(channel);
    if (!channelRangeField) return;
    // Scenario 14.
    if (rangeField(pkg)) {
      throw at.error(
        `${channelPath}.${channelRangeField}`,
        `package "${pkg.name}" has its own minVersion/maxVersion: filtering by package range and by channel range together is not allowed`,
      );
    }
    // Scenario 16.
    if (op.full) {
      throw at.error(
        `${channelPath}.${channelRangeField}`,
        `package "${pkg.name}" channel "${channel.name}": a version range cannot be used with full: true on the catalog (full mirrors every version)`,
      );
    }
    checkRangeOrder(channel, channelPath, at);
  });
}

/** The first range field set, for pointing at it. */
function rangeField(r: Pick<OperatorChannel, 'minVersion' | 'maxVersion'>): 'minVersion' | 'maxVersion' | undefined {
  if (r.minVersion) return 'minVersion';
  if (r.maxVersion) return 'maxVersion';
  return undefined;
}

function checkRangeOrder(r: Pick<OperatorChannel, 'minVersion' | 'maxVersion'>, path: string, at: Locations): void {
  if (!r.minVersion || !r.maxVersion) return;
  const min = normalizeSemver(r.minVersion);
  const max = normalizeSemver(r.maxVersion);
  if (min && max && semver.gt(min, max)) {
    throw at.error(`${path}.minVersion`, `"${r.minVersion}" is greater than maxVersion "${r.maxVersion}": the range selects nothing`);
  }
}
