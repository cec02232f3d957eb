/**
 * Where a `mirror.operators[].catalog` is read from, and the name its mirrored image takes (ref
 * §5.3, §7.5): a registry reference, or `oci://<dir>`, an OCI image layout on disk.
 */
import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import type { Operator } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { isValidRepositoryPath, parseReference, type ImageReference } from '../image/reference.js';

export type CatalogLocation = { kind: 'registry'; ref: ImageReference } | { kind: 'oci'; dir: string };

export function catalogLocation(catalog: string, cwd: string): CatalogLocation {
  if (catalog.startsWith('oci:')) return { kind: 'oci', dir: resolve(cwd, catalog.replace(/^oci:(\/\/)?/, '')) };
  return { kind: 'registry', ref: parseReference(catalog) };
}

/** The folder a catalog's files take under `working-dir/operator-catalogs/`: its last path component. */
export function catalogFolder(loc: CatalogLocation): string {
  const name = loc.kind === 'oci' ? basename(loc.dir) : loc.ref.repository.slice(loc.ref.repository.lastIndexOf('/') + 1);
  return name.replace(/[^A-Za-z0-9._-]/g, '_') || 'catalog';
}

/**
 * The repository the mirrored catalog takes, in the local store and (under the destination's
 * prefix) at the destination: targetCatalog, else the source path, else (layouts) the directory's name.
 */
export function catalogRepository(op: Operator, loc: CatalogLocation, where: string): string {
  if (op.targetCatalog) return op.targetCatalog;
  if (loc.kind === 'registry') return loc.ref.repository;
  const name = basename(loc.dir).toLowerCase();
  if (!isValidRepositoryPath(name)) {
    throw new ConfigError(`${where}.catalog: the directory name "${basename(loc.dir)}" cannot name a repository; set targetCatalog`);
  }
  return name;
}

/**
 * The tag: targetTag, else the source tag, else `latest` for layouts; undefined for a catalog
 * named by digest only, which is tagged `sha256-<digest of what is mirrored>`.
 */
export function catalogTag(op: Operator, loc: CatalogLocation): string | undefined {
  if (op.targetTag) return op.targetTag;
  if (loc.kind === 'oci') return 'latest';
  return loc.ref.tag;
}

/**
 * What the selection depends on besides the catalog's content: two runs with the same key over
 * the same catalog digest select the same bundles. Naming fields (targetCatalog, targetTag, the
 * CatalogSource template) are not part of it.
 */
export function filterKey(op: Operator): string {
  const relevant = { packages: op.packages ?? [], full: op.full ?? false, skipDependencies: op.skipDependencies ?? false };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 32);
}

/** A catalog is rebuilt unless it is mirrored whole (`full: true` without packages, ref §7.2 step 1). */
export function isRebuilt(op: Operator): boolean {
  return !(op.full && !op.packages?.length);
}
