/**
 * What a bundle requires of the catalog and which bundles provide it: `olm.package.required`
 * (a package in a version range) and `olm.gvk.required` (an API some bundle declares with
 * `olm.gvk`). Compound `olm.constraint` properties (CEL, all/any/not) are not evaluated.
 */
import type { FbcBundle } from '../declarative-config.js';
import { parseVersion, parseVersionRange, VersionRangeError, type VersionRange } from '../version-range.js';

export interface Requirement {
  /** e.g. `olm.package.required etcd >=0.9.0 <1.0.0`, `olm.gvk.required example.com/v1 Foo` */
  text: string;
  /** the only package that can satisfy it, for olm.package.required */
  packageName?: string;
  /** the API it needs (a `gvkKey`), for olm.gvk.required */
  gvk?: string;
  satisfiedBy(bundle: FbcBundle): boolean;
}

interface Gvk {
  group: string;
  version: string;
  kind: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asGvk(value: unknown): Gvk | undefined {
  if (!isObject(value)) return undefined;
  const { group = '', version, kind } = value;
  if (typeof group !== 'string' || typeof version !== 'string' || typeof kind !== 'string' || !version || !kind) return undefined;
  return { group, version, kind };
}

export function gvkKey(gvk: Gvk): string {
  return `${gvk.group ? `${gvk.group}/` : ''}${gvk.version} ${gvk.kind}`;
}

/** The `olm.gvk` keys a bundle provides. */
export function providedGvks(bundle: FbcBundle): string[] {
  return bundle.properties.flatMap((p) => {
    if (p.type !== 'olm.gvk') return [];
    const gvk = asGvk(p.value);
    return gvk ? [gvkKey(gvk)] : [];
  });
}

/** The requirements of a bundle; malformed ones are reported in `warnings` and skipped. */
export function bundleRequirements(bundle: FbcBundle, warnings: string[]): Requirement[] {
  const requirements: Requirement[] = [];
  for (const property of bundle.properties) {
    if (property.type === 'olm.package.required') {
      const value = property.value;
      const packageName = isObject(value) ? value.packageName : undefined;
      const rangeText = isObject(value) ? (value.versionRange ?? '') : undefined;
      if (typeof packageName !== 'string' || !packageName || typeof rangeText !== 'string') {
        warnings.push(`bundle ${bundle.name}: ignored a malformed olm.package.required property`);
        continue;
      }
      let range: VersionRange | undefined;
      if (rangeText.trim()) {
        try {
          range = parseVersionRange(rangeText);
        } catch (err) {
          if (!(err instanceof VersionRangeError)) throw err;
          warnings.push(`bundle ${bundle.name}: ignored olm.package.required ${packageName}: ${err.message}`);
          continue;
        }
      }
      requirements.push({
        text: `olm.package.required ${packageName}${range ? ` ${range.text}` : ''}`,
        packageName,
        satisfiedBy: (b) => {
          if (b.package !== packageName) return false;
          if (!range) return true;
          const v = parseVersion(b.version);
          return v !== undefined && range.matches(v);
        },
      });
    } else if (property.type === 'olm.gvk.required') {
      const gvk = asGvk(property.value);
      if (!gvk) {
        warnings.push(`bundle ${bundle.name}: ignored a malformed olm.gvk.required property`);
        continue;
      }
      const key = gvkKey(gvk);
      requirements.push({ text: `olm.gvk.required ${key}`, gvk: key, satisfiedBy: (b) => providedGvks(b).includes(key) });
    }
  }
  return requirements;
}
