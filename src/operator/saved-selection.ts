/**
 * What mirror to disk records about each catalog for disk to mirror, as metadata that travels in
 * the archive (`working-dir/operator-catalogs/<folder>/<catalog digest hex>/selection-<key>.json`):
 * the bundles selected and where the mirrored catalog image sits in the store. The catalog image
 * itself travels as an image (and its layers, once archived, are not archived again); its FBC is
 * read back from it when disk to mirror filters with another configuration, so the original
 * catalog never travels again.
 */
import type { MetadataFiles } from '../collect/types.js';
import { OcMirrorError } from '../errors.js';
import { isDigest } from '../image/digest.js';
import type { SelectedBundle } from './filter.js';

export const OPERATOR_CATALOGS_DIR = 'operator-catalogs';

export interface SavedSelection {
  /** the configured catalog's unique name (catalogUniqueName): targetCatalog and targetTag included */
  catalog: string;
  /** digest of the catalog the bundles were selected from */
  catalogDigest: string;
  filterKey: string;
  /** the CollectedImage source of the catalog */
  source: string;
  /** where the mirrored catalog sits in the store (and at destinations, under their prefix) */
  image: { repository: string; tag: string; digest: string; rebuilt: boolean };
  bundles: SelectedBundle[];
  addedPackages: { package: string; reason: string }[];
}

export function selectionPath(folder: string, catalogDigest: string, key: string): string {
  return `${OPERATOR_CATALOGS_DIR}/${folder}/${catalogDigest.slice(catalogDigest.indexOf(':') + 1)}/selection-${key}.json`;
}

export async function saveSelection(metadata: MetadataFiles, folder: string, s: SavedSelection): Promise<void> {
  await metadata.write(selectionPath(folder, s.catalogDigest, s.filterKey), `${JSON.stringify(s, null, 1)}\n`);
}

export async function readSelection(metadata: MetadataFiles, path: string): Promise<SavedSelection | undefined> {
  const bytes = await metadata.read(path);
  if (!bytes) return undefined;
  let s: SavedSelection;
  try {
    s = JSON.parse(bytes.toString('utf8')) as SavedSelection;
  } catch {
    throw new OcMirrorError(`working-dir/${path}: not valid JSON`);
  }
  if (typeof s?.catalog !== 'string' || !isDigest(s.catalogDigest ?? '') || !isDigest(s.image?.digest ?? '') || !Array.isArray(s.bundles)) {
    throw new OcMirrorError(`working-dir/${path}: not a catalog selection written by mirror to disk`);
  }
  return s;
}

/** Every selection saved for catalogs of this folder, by any run whose metadata is visible. */
export async function savedSelections(metadata: MetadataFiles, folder: string): Promise<SavedSelection[]> {
  const found: SavedSelection[] = [];
  const base = `${OPERATOR_CATALOGS_DIR}/${folder}`;
  for (const digestDir of await metadata.list(base)) {
    for (const file of await metadata.list(`${base}/${digestDir}`)) {
      if (!/^selection-[0-9a-f]+\.json$/.test(file)) continue;
      const s = await readSelection(metadata, `${base}/${digestDir}/${file}`);
      if (s) found.push(s);
    }
  }
  return found;
}
