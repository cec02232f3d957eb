/**
 * The file-based catalog (FBC) of an operator index as plain data: the `olm.package`,
 * `olm.channel`, `olm.bundle` and `olm.deprecations` objects of a catalog's configs directory,
 * each with the object as it was read (`raw`) so that the catalog can be written back unchanged
 * but for what a filter removes. Objects of other schemas travel in `others`.
 */
import { CatalogParseError, fbcFileKind, fbcObjects } from './fbc-parse.js';

export { CatalogParseError } from './fbc-parse.js';

export interface FbcPackage {
  schema: 'olm.package';
  name: string;
  defaultChannel?: string;
  description?: string;
  icon?: unknown;
  raw: Record<string, unknown>;
}

export interface FbcChannelEntry {
  name: string;
  replaces?: string;
  skips?: string[];
  skipRange?: string;
}

export interface FbcChannel {
  schema: 'olm.channel';
  package: string;
  name: string;
  entries: FbcChannelEntry[];
  raw: Record<string, unknown>;
}

export interface FbcProperty {
  type: string;
  value: unknown;
}

export interface FbcBundle {
  schema: 'olm.bundle';
  package: string;
  name: string;
  image: string;
  /** from the olm.package property */
  version: string;
  relatedImages: { name?: string; image: string }[];
  properties: FbcProperty[];
  raw: Record<string, unknown>;
  /**
   * Set on bundles of packages the parse was told not to keep: only what dependency resolution
   * reads survives (name, image, version, related images, the dependency properties), `raw` is
   * empty, and such a bundle cannot be written back (see `parseDeclarativeConfig`).
   */
  outline?: true;
}

export interface FbcDeprecation {
  schema: 'olm.deprecations';
  package: string;
  raw: Record<string, unknown>;
}

export interface DeclarativeConfig {
  packages: FbcPackage[];
  channels: FbcChannel[];
  bundles: FbcBundle[];
  deprecations: FbcDeprecation[];
  others: Record<string, unknown>[];
}

export interface FbcFile {
  path: string;
  content: Buffer;
}

/** Bundle properties that dependency resolution reads; all that a bundle kept in outline has. */
export const DEPENDENCY_PROPERTY_TYPES: ReadonlySet<string> = new Set([
  'olm.package',
  'olm.gvk',
  'olm.package.required',
  'olm.gvk.required',
]);

export interface ParseOptions {
  /**
   * Packages for which false is returned are not kept whole: their package and channel objects
   * are (small, and needed to resolve dependencies into them), their bundles are kept in outline, and
   * their deprecations and other objects are dropped. The catalog then costs memory in
   * proportion to the kept packages plus a few hundred bytes per other bundle, while a filter can
   * still find which packages provide a dependency; when it picks a package kept in outline, the caller
   * parses again keeping it (`parseAndFilterCatalog` does exactly this).
   */
  keep?: (packageName: string) => boolean;
  /** Bundles of kept packages for which false is returned are kept in outline too. */
  keepBundle?: (packageName: string, bundleName: string) => boolean;
  /** Told the file of every object that belongs to a package, to read only those files again later. */
  seen?: (packageName: string, path: string) => void;
}

/**
 * Parses every file of a catalog's configs directory (JSON streams of concatenated objects,
 * multi-document YAML; .json/.yaml/.yml, other files ignored as opm ignores them; any layout).
 * Each file is given as its path (for errors) and content.
 */
export async function parseDeclarativeConfig(files: AsyncIterable<FbcFile>, opts: ParseOptions = {}): Promise<DeclarativeConfig> {
  const builder = new ConfigBuilder(opts);
  for await (const file of files) {
    const kind = fbcFileKind(file.path);
    if (!kind) continue;
    let index = 0;
    for (const object of fbcObjects(file.path, kind, file.content)) {
      index++;
      builder.add(object, `${file.path}: object ${index}`);
      if (opts.seen) {
        const owner = object.schema === 'olm.package' ? object.name : object.package;
        if (typeof owner === 'string' && owner !== '') opts.seen(owner, file.path);
      }
    }
  }
  return builder.result();
}

class ConfigBuilder {
  private readonly dc: DeclarativeConfig = { packages: [], channels: [], bundles: [], deprecations: [], others: [] };
  private readonly packageNames = new Set<string>();
  private readonly channelKeys = new Set<string>();
  private readonly bundleKeys = new Set<string>();

  constructor(private readonly opts: ParseOptions) {}

  private kept(pkg: string): boolean {
    return this.opts.keep ? this.opts.keep(pkg) : true;
  }

  add(object: Record<string, unknown>, where: string): void {
    const schema = object.schema;
    if (typeof schema !== 'string' || schema === '') throw new CatalogParseError(`${where}: the object has no "schema"`);
    switch (schema) {
      case 'olm.package':
        return this.addPackage(object, where);
      case 'olm.channel':
        return this.addChannel(object, where);
      case 'olm.bundle':
        return this.addBundle(object, where);
      case 'olm.deprecations': {
        const pkg = requireString(object, 'package', where);
        if (this.kept(pkg)) this.dc.deprecations.push({ schema, package: pkg, raw: object });
        return;
      }
      default: {
        const pkg = object.package;
        if (typeof pkg === 'string' && pkg !== '' && !this.kept(pkg)) return;
        this.dc.others.push(object);
      }
    }
  }

  private addPackage(object: Record<string, unknown>, where: string): void {
    const name = requireString(object, 'name', where);
    if (this.packageNames.has(name)) throw new CatalogParseError(`${where}: package "${name}" is defined twice`);
    this.packageNames.add(name);
    const defaultChannel = optionalString(object, 'defaultChannel', where);
    const pkg: FbcPackage = { schema: 'olm.package', name, raw: object };
    if (defaultChannel) pkg.defaultChannel = defaultChannel;
    if (this.kept(name)) {
      const description = optionalString(object, 'description', where);
      if (description !== undefined) pkg.description = description;
      if (object.icon !== undefined) pkg.icon = object.icon;
    } else {
      // Only the default channel matters for dependency resolution; the icon can weigh kilobytes.
      pkg.raw = { schema: 'olm.package', name, ...(defaultChannel && { defaultChannel }) };
    }
    this.dc.packages.push(pkg);
  }

  private addChannel(object: Record<string, unknown>, where: string): void {
    const pkg = requireString(object, 'package', where);
    const name = requireString(object, 'name', where);
    const key = `${pkg}\u0000${name}`;
    if (this.channelKeys.has(key)) throw new CatalogParseError(`${where}: channel "${name}" of package "${pkg}" is defined twice`);
    this.channelKeys.add(key);
    const rawEntries = object.entries ?? [];
    if (!Array.isArray(rawEntries)) throw new CatalogParseError(`${where}: channel "${name}": "entries" must be a list`);
    const seen = new Set<string>();
    const entries = rawEntries.map((raw: unknown, i) => {
      const at = `${where}: channel "${name}" entries[${i}]`;
      if (!isObject(raw)) throw new CatalogParseError(`${at}: must be an object`);
      const entry: FbcChannelEntry = { name: requireString(raw, 'name', at) };
      if (seen.has(entry.name)) throw new CatalogParseError(`${at}: entry "${entry.name}" is listed twice`);
      seen.add(entry.name);
      const replaces = optionalString(raw, 'replaces', at);
      if (replaces) entry.replaces = replaces;
      if (raw.skips !== undefined && raw.skips !== null) {
        if (!Array.isArray(raw.skips) || raw.skips.some((s) => typeof s !== 'string')) {
          throw new CatalogParseError(`${at}: "skips" must be a list of bundle names`);
        }
        if (raw.skips.length > 0) entry.skips = raw.skips as string[];
      }
      const skipRange = optionalString(raw, 'skipRange', at);
      if (skipRange) entry.skipRange = skipRange;
      return entry;
    });
    this.dc.channels.push({ schema: 'olm.channel', package: pkg, name, entries, raw: object });
  }

  private addBundle(object: Record<string, unknown>, where: string): void {
    const pkg = requireString(object, 'package', where);
    const name = requireString(object, 'name', where);
    const at = `${where} (bundle "${name}")`;
    const key = `${pkg}\u0000${name}`;
    if (this.bundleKeys.has(key)) throw new CatalogParseError(`${at}: bundle "${name}" of package "${pkg}" is defined twice`);
    this.bundleKeys.add(key);
    const image = optionalString(object, 'image', at) ?? '';
    const properties = readProperties(object, at);
    const version = bundleVersion(properties, at);
    const relatedImages = readRelatedImages(object, at);
    const whole = this.kept(pkg) && (this.opts.keepBundle ? this.opts.keepBundle(pkg, name) : true);
    if (whole) {
      this.dc.bundles.push({ schema: 'olm.bundle', package: pkg, name, image, version, relatedImages, properties, raw: object });
    } else {
      this.dc.bundles.push({
        schema: 'olm.bundle',
        package: pkg,
        name,
        image,
        version,
        relatedImages,
        properties: properties.filter((p) => DEPENDENCY_PROPERTY_TYPES.has(p.type)),
        raw: {},
        outline: true,
      });
    }
  }

  result(): DeclarativeConfig {
    return this.dc;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(object: Record<string, unknown>, field: string, where: string): string {
  const value = object[field];
  if (typeof value !== 'string' || value === '') throw new CatalogParseError(`${where}: "${field}" must be a non-empty string`);
  return value;
}

function optionalString(object: Record<string, unknown>, field: string, where: string): string | undefined {
  const value = object[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new CatalogParseError(`${where}: "${field}" must be a string`);
  return value;
}

function readProperties(object: Record<string, unknown>, where: string): FbcProperty[] {
  const raw = object.properties ?? [];
  if (!Array.isArray(raw)) throw new CatalogParseError(`${where}: "properties" must be a list`);
  return raw.map((p: unknown, i) => {
    if (!isObject(p) || typeof p.type !== 'string') throw new CatalogParseError(`${where}: properties[${i}] must be an object with a "type"`);
    return { type: p.type, value: p.value };
  });
}

function bundleVersion(properties: FbcProperty[], where: string): string {
  const found = properties.filter((p) => p.type === 'olm.package');
  if (found.length !== 1) {
    throw new CatalogParseError(`${where}: a bundle needs exactly one "olm.package" property, found ${found.length}`);
  }
  const value = found[0]!.value;
  const version = isObject(value) ? value.version : undefined;
  if (typeof version !== 'string' || version === '') {
    throw new CatalogParseError(`${where}: the "olm.package" property has no version`);
  }
  return version;
}

function readRelatedImages(object: Record<string, unknown>, where: string): { name?: string; image: string }[] {
  const raw = object.relatedImages ?? [];
  if (!Array.isArray(raw)) throw new CatalogParseError(`${where}: "relatedImages" must be a list`);
  const images: { name?: string; image: string }[] = [];
  raw.forEach((r: unknown, i) => {
    if (!isObject(r)) throw new CatalogParseError(`${where}: relatedImages[${i}] must be an object`);
    const image = optionalString(r, 'image', `${where}: relatedImages[${i}]`);
    // opm tolerates entries without an image (some CSVs list [name, value]); nothing to mirror there.
    if (!image) return;
    const name = optionalString(r, 'name', `${where}: relatedImages[${i}]`);
    images.push(name ? { name, image } : { image });
  });
  return images;
}

/** Where objects without a package are written back (opm's name for them). */
const GLOBAL_DIRECTORY = '__global';

/**
 * The FBC as files again: one `<package>/catalog.json` per package (JSON stream: the package,
 * its channels and bundles sorted by name, its deprecations, its other objects), objects without
 * a package in `__global/catalog.json`. The same config gives the same bytes.
 */
export function renderDeclarativeConfig(dc: DeclarativeConfig): FbcFile[] {
  const byPackage = new Map<string, Record<string, unknown>[][]>();
  const slot = (pkg: string): Record<string, unknown>[][] => {
    let groups = byPackage.get(pkg);
    if (!groups) byPackage.set(pkg, (groups = [[], [], [], [], []]));
    return groups;
  };
  for (const p of dc.packages) slot(p.name)[0]!.push(p.raw);
  for (const c of sortByName(dc.channels)) slot(c.package)[1]!.push(c.raw);
  for (const b of sortByName(dc.bundles)) {
    if (b.outline) throw new Error(`bundle "${b.name}" of package "${b.package}" was parsed in outline and cannot be written`);
    slot(b.package)[2]!.push(b.raw);
  }
  for (const d of dc.deprecations) slot(d.package)[3]!.push(d.raw);
  const globals: Record<string, unknown>[] = [];
  for (const o of dc.others) {
    if (typeof o.package === 'string' && o.package !== '') slot(o.package)[4]!.push(o);
    else globals.push(o);
  }
  const files: FbcFile[] = [...byPackage.keys()]
    .sort(compareStrings)
    .map((pkg) => ({ path: `${pkg}/catalog.json`, content: jsonStream(byPackage.get(pkg)!.flat()) }));
  if (globals.length > 0) files.push({ path: `${GLOBAL_DIRECTORY}/catalog.json`, content: jsonStream(globals) });
  return files;
}

function jsonStream(objects: Record<string, unknown>[]): Buffer {
  return Buffer.from(objects.map((o) => `${JSON.stringify(o, null, 2)}\n`).join(''), 'utf8');
}

function sortByName<T extends { name: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => compareStrings(a.name, b.name));
}

/** Code-unit order, independent of locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
