import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { Operator } from '../../src/config/types.js';
import {
  parseDeclarativeConfig,
  renderDeclarativeConfig,
  type DeclarativeConfig,
  type FbcFile,
} from '../../src/operator/declarative-config.js';
import { CatalogFilterError, filterCatalog, parseAndFilterCatalog, type CatalogFilterResult } from '../../src/operator/filter.js';

// ---- a catalog built in code -------------------------------------------------------------------

type Obj = Record<string, unknown>;
interface EntrySpec {
  name: string;
  replaces?: string;
  skips?: string[];
  skipRange?: string;
}
interface BundleSpec {
  version: string;
  related?: string[];
  provides?: [group: string, version: string, kind: string][];
  requiresGvk?: [group: string, version: string, kind: string][];
  requiresPackage?: [name: string, range: string][];
}

function pkg(name: string, defaultChannel: string): Obj {
  return { schema: 'olm.package', name, defaultChannel, description: `the ${name} operator` };
}

function channel(pkgName: string, name: string, entries: EntrySpec[]): Obj {
  return { schema: 'olm.channel', package: pkgName, name, entries };
}

function bundle(pkgName: string, spec: BundleSpec): Obj {
  const name = `${pkgName}.v${spec.version}`;
  const image = `quay.io/acme/${pkgName}-bundle:v${spec.version}`;
  return {
    schema: 'olm.bundle',
    package: pkgName,
    name,
    image,
    properties: [
      { type: 'olm.package', value: { packageName: pkgName, version: spec.version } },
      ...(spec.provides ?? []).map(([group, version, kind]) => ({ type: 'olm.gvk', value: { group, version, kind } })),
      ...(spec.requiresGvk ?? []).map(([group, version, kind]) => ({ type: 'olm.gvk.required', value: { group, version, kind } })),
      ...(spec.requiresPackage ?? []).map(([packageName, versionRange]) => ({
        type: 'olm.package.required',
        value: { packageName, versionRange },
      })),
      { type: 'olm.bundle.object', value: { data: Buffer.from(`{"kind":"ClusterServiceVersion","name":"${name}"}`).toString('base64') } },
    ],
    relatedImages: [
      { name: '', image },
      { name: 'operator', image: `quay.io/acme/${pkgName}-operator:v${spec.version}` },
      ...(spec.related ?? []).map((image) => ({ name: 'operand', image })),
    ],
  };
}

const SHARED = 'quay.io/acme/shared-operand@sha256:' + 'a'.repeat(64);
const WIDGET: [string, string, string] = ['example.com', 'v1', 'Widget'];
const GADGET: [string, string, string] = ['example.com', 'v1alpha1', 'Gadget'];

/**
 * foo   stable: 1.0.0 <- 1.1.0 <- 1.1.1, 1.1.0 <- 1.2.0 (skips 1.1.1) <- 2.0.0; fast: 2.0.0 <- 2.1.0
 *       (2.0.0 is in both channels; 1.2.0 and 2.0.0 share a related image)
 * bar   alpha: 0.1.0 <- 0.2.0 (both provide Widget); beta: 0.3.0-beta.1 (replaces 0.2.0, not in beta)
 * sky   candidate: 1.0.0, 1.1.0 (skipRange >=1.0.0 <1.1.0), 1.2.0 (skipRange >=1.0.0 <1.2.0): no replaces at all
 * needy stable: 1.0.0 requires Widget and sky >=1.0.0 <1.2.0
 * gadgets  stable: 0.5.0; preview: 0.9.0 (provides Gadget)
 * zig   stable: 1.0.0 <- 1.5.0 <- 1.4.0 <- 2.0.0 (a lower version replacing a higher one)
 * widgets-alt  stable: 1.0.0 (provides Widget)
 */
function catalogObjects(): Obj[] {
  return [
    pkg('foo', 'stable'),
    channel('foo', 'stable', [
      { name: 'foo.v1.0.0' },
      { name: 'foo.v1.1.0', replaces: 'foo.v1.0.0' },
      { name: 'foo.v1.1.1', replaces: 'foo.v1.1.0' },
      { name: 'foo.v1.2.0', replaces: 'foo.v1.1.0', skips: ['foo.v1.1.1'] },
      { name: 'foo.v2.0.0', replaces: 'foo.v1.2.0' },
    ]),
    channel('foo', 'fast', [
      { name: 'foo.v2.0.0', replaces: 'foo.v1.2.0' },
      { name: 'foo.v2.1.0', replaces: 'foo.v2.0.0' },
    ]),
    bundle('foo', { version: '1.0.0' }),
    bundle('foo', { version: '1.1.0' }),
    bundle('foo', { version: '1.1.1' }),
    bundle('foo', { version: '1.2.0', related: [SHARED] }),
    bundle('foo', { version: '2.0.0', related: [SHARED] }),
    bundle('foo', { version: '2.1.0' }),
    { schema: 'olm.deprecations', package: 'foo', entries: [
      { reference: { schema: 'olm.bundle', name: 'foo.v1.0.0' }, message: 'foo 1.0.0 is deprecated' },
      { reference: { schema: 'olm.channel', name: 'fast' }, message: 'fast is deprecated' },
    ] },
    pkg('bar', 'alpha'),
    channel('bar', 'alpha', [{ name: 'bar.v0.1.0' }, { name: 'bar.v0.2.0', replaces: 'bar.v0.1.0' }]),
    channel('bar', 'beta', [{ name: 'bar.v0.3.0-beta.1', replaces: 'bar.v0.2.0' }]),
    bundle('bar', { version: '0.1.0', provides: [WIDGET] }),
    bundle('bar', { version: '0.2.0', provides: [WIDGET] }),
    bundle('bar', { version: '0.3.0-beta.1', provides: [WIDGET] }),
    pkg('sky', 'candidate'),
    channel('sky', 'candidate', [
      { name: 'sky.v1.0.0' },
      { name: 'sky.v1.1.0', skipRange: '>=1.0.0 <1.1.0' },
      { name: 'sky.v1.2.0', skipRange: '>=1.0.0 <1.2.0' },
    ]),
    bundle('sky', { version: '1.0.0' }),
    bundle('sky', { version: '1.1.0' }),
    bundle('sky', { version: '1.2.0' }),
    pkg('needy', 'stable'),
    channel('needy', 'stable', [{ name: 'needy.v1.0.0' }]),
    bundle('needy', { version: '1.0.0', requiresGvk: [WIDGET], requiresPackage: [['sky', '>=1.0.0 <1.2.0']] }),
    pkg('gadgets', 'stable'),
    channel('gadgets', 'stable', [{ name: 'gadgets.v0.5.0' }]),
    channel('gadgets', 'preview', [{ name: 'gadgets.v0.9.0' }]),
    bundle('gadgets', { version: '0.5.0' }),
    bundle('gadgets', { version: '0.9.0', provides: [GADGET] }),
    pkg('zig', 'stable'),
    channel('zig', 'stable', [
      { name: 'zig.v1.0.0' },
      { name: 'zig.v1.5.0', replaces: 'zig.v1.0.0' },
      { name: 'zig.v1.4.0', replaces: 'zig.v1.5.0' },
      { name: 'zig.v2.0.0', replaces: 'zig.v1.4.0' },
    ]),
    bundle('zig', { version: '1.0.0' }),
    bundle('zig', { version: '1.5.0' }),
    bundle('zig', { version: '1.4.0' }),
    bundle('zig', { version: '2.0.0' }),
    pkg('widgets-alt', 'stable'),
    channel('widgets-alt', 'stable', [{ name: 'widgets-alt.v1.0.0' }]),
    bundle('widgets-alt', { version: '1.0.0', provides: [WIDGET] }),
    { schema: 'acme.note', package: 'foo', text: 'kept with foo' },
    { schema: 'acme.global', text: 'kept always' },
  ];
}

/** The catalog split over files the way catalogs come: one file per package, JSON streams. */
function catalogFiles(objects: Obj[] = catalogObjects()): FbcFile[] {
  const byFile = new Map<string, Obj[]>();
  for (const o of objects) {
    const file = `configs/${String(o.package ?? o.name ?? 'global')}/catalog.json`;
    byFile.set(file, [...(byFile.get(file) ?? []), o]);
  }
  return [...byFile].map(([path, list]) => ({ path, content: Buffer.from(list.map((o) => JSON.stringify(o)).join('\n')) }));
}

async function* iterate(files: FbcFile[]): AsyncGenerator<FbcFile> {
  yield* files;
}

async function catalog(objects?: Obj[]): Promise<DeclarativeConfig> {
  return parseDeclarativeConfig(iterate(catalogFiles(objects)));
}

const WHERE = 'isc.yaml mirror.operators[0]';
const CATALOG = 'registry.example.com/acme/index:v1';

function op(fields: Omit<Operator, 'catalog'>): Operator {
  return { catalog: CATALOG, ...fields };
}

/** bundle name → reasons, the shape every scenario is asserted in. */
function reasons(result: CatalogFilterResult): Record<string, string[]> {
  return Object.fromEntries(result.bundles.map((b) => [b.name, b.reasons]));
}

function channelEntries(result: CatalogFilterResult): Record<string, string[]> {
  return Object.fromEntries(result.config.channels.map((c) => [`${c.package}/${c.name}`, c.entries.map((e) => e.name)]));
}

function filterError(dc: DeclarativeConfig, operator: Operator): string {
  try {
    filterCatalog(dc, operator, WHERE);
  } catch (err) {
    assert.ok(err instanceof CatalogFilterError, `expected a CatalogFilterError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('filterCatalog did not fail');
}

const head = (channel: string): string => `head of channel ${channel}`;
const inRange = (range: string, channel: string): string => `in range ${range} of channel ${channel}`;

// ---- scenarios 1–13 of oc-mirror's filtering table ------------------------------------------------

describe('filterCatalog: the scenarios of oc-mirror', () => {
  it('1: no packages: the head of every channel of every package, plus dependencies', async () => {
    const result = filterCatalog(await catalog(), op({}), WHERE);
    assert.deepEqual(reasons(result), {
      'bar.v0.2.0': [head('alpha')],
      'bar.v0.3.0-beta.1': [head('beta')],
      'foo.v2.0.0': [head('stable')],
      'foo.v2.1.0': [head('fast')],
      'gadgets.v0.5.0': [head('stable')],
      'gadgets.v0.9.0': [head('preview')],
      'needy.v1.0.0': [head('stable')],
      'sky.v1.1.0': ['dependency of needy.v1.0.0 (olm.package.required sky >=1.0.0 <1.2.0)'],
      'sky.v1.2.0': [head('candidate')],
      'widgets-alt.v1.0.0': [head('stable')],
      'zig.v2.0.0': [head('stable')],
    });
    assert.deepEqual(result.addedPackages, []);
    assert.deepEqual(result.warnings, []);
    assert.equal(result.rebuild, true);
    assert.deepEqual(channelEntries(result)['sky/candidate'], ['sky.v1.1.0', 'sky.v1.2.0']);
  });

  it('2: full: true without packages: every bundle, the catalog unchanged', async () => {
    const dc = await catalog();
    const result = filterCatalog(dc, op({ full: true }), WHERE);
    assert.equal(result.rebuild, false);
    assert.equal(result.config, dc);
    assert.equal(result.bundles.length, dc.bundles.length);
    assert.ok(result.bundles.every((b) => b.reasons.join() === 'full catalog (full: true)'));
    assert.deepEqual(result.bundles.find((b) => b.name === 'foo.v2.0.0')!.channels, ['fast', 'stable']);
  });

  it('3: a package: the head of each of its channels', async () => {
    const result = filterCatalog(await catalog(), op({ packages: [{ name: 'foo' }] }), WHERE);
    assert.deepEqual(reasons(result), { 'foo.v2.0.0': [head('stable')], 'foo.v2.1.0': [head('fast')] });
    assert.deepEqual(channelEntries(result), { 'foo/fast': ['foo.v2.1.0'], 'foo/stable': ['foo.v2.0.0'] });
  });

  it('4: full: true with a package: every bundle of every channel of it', async () => {
    const result = filterCatalog(await catalog(), op({ full: true, packages: [{ name: 'foo' }] }), WHERE);
    assert.deepEqual(reasons(result), {
      'foo.v1.0.0': ['in channel stable (full: true)'],
      'foo.v1.1.0': ['in channel stable (full: true)'],
      'foo.v1.1.1': ['in channel stable (full: true)'],
      'foo.v1.2.0': ['in channel stable (full: true)'],
      'foo.v2.0.0': ['in channel fast (full: true)', 'in channel stable (full: true)'],
      'foo.v2.1.0': ['in channel fast (full: true)'],
    });
    assert.deepEqual(result.bundles.find((b) => b.name === 'foo.v2.0.0')!.channels, ['fast', 'stable']);
  });

  it('5: package minVersion: every channel, from minVersion up to the head', async () => {
    const result = filterCatalog(await catalog(), op({ packages: [{ name: 'foo', minVersion: '1.1.1' }] }), WHERE);
    assert.deepEqual(reasons(result), {
      'foo.v1.1.1': [inRange('>=1.1.1', 'stable')],
      'foo.v1.2.0': [inRange('>=1.1.1', 'stable')],
      'foo.v2.0.0': [inRange('>=1.1.1', 'fast'), inRange('>=1.1.1', 'stable')],
      'foo.v2.1.0': [inRange('>=1.1.1', 'fast')],
    });
    assert.deepEqual(channelEntries(result), {
      'foo/fast': ['foo.v2.0.0', 'foo.v2.1.0'],
      'foo/stable': ['foo.v1.1.1', 'foo.v1.2.0', 'foo.v2.0.0'],
    });
  });

  it('6: package maxVersion: every channel, up to maxVersion, which becomes the head; channels left empty are dropped', async () => {
    const result = filterCatalog(await catalog(), op({ packages: [{ name: 'foo', maxVersion: '1.2.0' }] }), WHERE);
    assert.deepEqual(reasons(result), {
      'foo.v1.0.0': [inRange('<=1.2.0', 'stable')],
      'foo.v1.1.0': [inRange('<=1.2.0', 'stable')],
      'foo.v1.1.1': [inRange('<=1.2.0', 'stable')],
      'foo.v1.2.0': [inRange('<=1.2.0', 'stable')],
    });
    assert.deepEqual(Object.keys(channelEntries(result)), ['foo/stable']);
  });

  it('7: package minVersion and maxVersion: every channel, between them', async () => {
    const result = filterCatalog(await catalog(), op({ packages: [{ name: 'foo', minVersion: '1.1.0', maxVersion: '1.1.1' }] }), WHERE);
    assert.deepEqual(reasons(result), {
      'foo.v1.1.0': [inRange('>=1.1.0 <=1.1.1', 'stable')],
      'foo.v1.1.1': [inRange('>=1.1.0 <=1.1.1', 'stable')],
    });
    // 1.1.1 is the new head: it replaces 1.1.0, nothing kept replaces it.
    assert.deepEqual(channelEntries(result), { 'foo/stable': ['foo.v1.1.0', 'foo.v1.1.1'] });
  });

  it('8: one channel that is not the default: its head, with defaultChannel naming it', async () => {
    const result = filterCatalog(await catalog(), op({ packages: [{ name: 'foo', defaultChannel: 'fast', channels: [{ name: 'fast' }] }] }), WHERE);
    assert.deepEqual(reasons(result), { 'foo.v2.1.0': [head('fast')] });
    assert.equal(result.config.packages[0]!.defaultChannel, 'fast');
    assert.equal(result.config.packages[0]!.raw.defaultChannel, 'fast');
  });

  it('8: one channel that is not the default, without defaultChannel: the error of ref §7.2, with the way out', async () => {
    assert.equal(
      filterError(await catalog(), op({ packages: [{ name: 'foo', channels: [{ name: 'fast' }] }] })),
      `${WHERE}.packages[0] (foo): the default channel "stable" of package "foo" is not among the channels selected; ` +
        'set defaultChannel to one of the channels that keep bundles: fast',
    );
  });

  it('9: full: true with channels: every bundle of those channels', async () => {
    const result = filterCatalog(await catalog(), op({ full: true, packages: [{ name: 'foo', channels: [{ name: 'stable' }] }] }), WHERE);
    assert.deepEqual(Object.keys(reasons(result)), ['foo.v1.0.0', 'foo.v1.1.0', 'foo.v1.1.1', 'foo.v1.2.0', 'foo.v2.0.0']);
    assert.deepEqual(Object.keys(channelEntries(result)), ['foo/stable']);
  });

  it('10: several channels: the head of each', async () => {
    const result = filterCatalog(await catalog(), op({ packages: [{ name: 'foo', channels: [{ name: 'stable' }, { name: 'fast' }] }] }), WHERE);
    assert.deepEqual(reasons(result), { 'foo.v2.0.0': [head('stable')], 'foo.v2.1.0': [head('fast')] });
  });

  it('11: channel minVersion: from it up to the head of that channel', async () => {
    const result = filterCatalog(await catalog(), op({ packages: [{ name: 'foo', channels: [{ name: 'stable', minVersion: '1.2.0' }] }] }), WHERE);
    assert.deepEqual(reasons(result), { 'foo.v1.2.0': [inRange('>=1.2.0', 'stable')], 'foo.v2.0.0': [inRange('>=1.2.0', 'stable')] });
  });

  it('12: channel maxVersion: up to it, the highest kept entry being the head', async () => {
    const result = filterCatalog(await catalog(), op({ packages: [{ name: 'foo', channels: [{ name: 'stable', maxVersion: '1.1.1' }] }] }), WHERE);
    assert.deepEqual(reasons(result), {
      'foo.v1.0.0': [inRange('<=1.1.1', 'stable')],
      'foo.v1.1.0': [inRange('<=1.1.1', 'stable')],
      'foo.v1.1.1': [inRange('<=1.1.1', 'stable')],
    });
  });

  it('13: channel minVersion and maxVersion: between them, each channel with its own range', async () => {
    const result = filterCatalog(
      await catalog(),
      op({
        packages: [
          {
            name: 'foo',
            channels: [
              { name: 'stable', minVersion: '1.1.0', maxVersion: '1.2.0' },
              { name: 'fast', minVersion: '2.1.0', maxVersion: '3.0.0' },
            ],
          },
        ],
      }),
      WHERE,
    );
    assert.deepEqual(reasons(result), {
      'foo.v1.1.0': [inRange('>=1.1.0 <=1.2.0', 'stable')],
      'foo.v1.1.1': [inRange('>=1.1.0 <=1.2.0', 'stable')],
      'foo.v1.2.0': [inRange('>=1.1.0 <=1.2.0', 'stable')],
      'foo.v2.1.0': [inRange('>=2.1.0 <=3.0.0', 'fast')],
    });
    assert.deepEqual(result.warnings, []);
  });

  it('13: a listed channel whose range keeps nothing is left out, with a warning', async () => {
    const result = filterCatalog(
      await catalog(),
      op({ packages: [{ name: 'foo', channels: [{ name: 'stable', maxVersion: '1.0.0' }, { name: 'fast', maxVersion: '1.0.0' }] }] }),
      WHERE,
    );
    assert.deepEqual(reasons(result), { 'foo.v1.0.0': [inRange('<=1.0.0', 'stable')] });
    assert.deepEqual(result.warnings, [`${WHERE}.packages[0].channels[1] (fast): no bundle of the channel is in range <=1.0.0; the channel is left out`]);
  });
});

describe('filterCatalog: the filtered catalog', () => {
  it('keeps the kept packages, entries, bundles, deprecations about them and other objects of them or of none', async () => {
    const result = filterCatalog(await catalog(), op({ packages: [{ name: 'foo', maxVersion: '1.2.0' }] }), WHERE);
    const { config } = result;
    assert.deepEqual(config.packages.map((p) => p.name), ['foo']);
    assert.deepEqual(config.bundles.map((b) => b.name), ['foo.v1.0.0', 'foo.v1.1.0', 'foo.v1.1.1', 'foo.v1.2.0']);
    // The deprecation of the dropped channel "fast" goes, the one of a kept bundle stays.
    assert.deepEqual(config.deprecations.map((d) => d.raw.entries), [
      [{ reference: { schema: 'olm.bundle', name: 'foo.v1.0.0' }, message: 'foo 1.0.0 is deprecated' }],
    ]);
    assert.deepEqual(config.others, [
      { schema: 'acme.note', package: 'foo', text: 'kept with foo' },
      { schema: 'acme.global', text: 'kept always' },
    ]);
    const stable = config.channels.find((c) => c.name === 'stable')!;
    assert.deepEqual(stable.raw.entries, stable.entries);
  });

  it('gives every selected bundle its related images with the bundle image, shared images in each bundle', async () => {
    const result = filterCatalog(await catalog(), op({ packages: [{ name: 'foo', channels: [{ name: 'stable', minVersion: '1.2.0' }] }] }), WHERE);
    const byName = Object.fromEntries(result.bundles.map((b) => [b.name, b]));
    assert.deepEqual(byName['foo.v2.0.0']!.relatedImages, [
      { image: 'quay.io/acme/foo-bundle:v2.0.0' },
      { name: 'operator', image: 'quay.io/acme/foo-operator:v2.0.0' },
      { name: 'operand', image: SHARED },
    ]);
    assert.ok(byName['foo.v1.2.0']!.relatedImages.some((r) => r.image === SHARED));
  });

  it('adds the bundle image to the related images when the catalog does not list it', async () => {
    const objects = catalogObjects().map((o) => (o.name === 'zig.v2.0.0' ? { ...o, relatedImages: [] } : o));
    const result = filterCatalog(await catalog(objects), op({ packages: [{ name: 'zig' }] }), WHERE);
    assert.deepEqual(result.bundles[0]!.relatedImages, [{ image: 'quay.io/acme/zig-bundle:v2.0.0' }]);
  });

  it('keeps out-of-range entries that connect the in-range ones to the new head', async () => {
    const result = filterCatalog(await catalog(), op({ packages: [{ name: 'zig', maxVersion: '1.4.0' }] }), WHERE);
    assert.deepEqual(reasons(result), {
      'zig.v1.0.0': [inRange('<=1.4.0', 'stable')],
      'zig.v1.4.0': [inRange('<=1.4.0', 'stable')],
      'zig.v1.5.0': ['on the upgrade path of channel stable (outside <=1.4.0)'],
    });
  });

  it('renders the filtered catalog to files that parse back to the same selection', async () => {
    const result = filterCatalog(await catalog(), op({ packages: [{ name: 'foo', minVersion: '1.1.1' }] }), WHERE);
    const files = renderDeclarativeConfig(result.config);
    assert.deepEqual(files.map((f) => f.path), ['foo/catalog.json', '__global/catalog.json']);
    const again = filterCatalog(await parseDeclarativeConfig(iterate(files)), op({ packages: [{ name: 'foo', minVersion: '1.1.1' }] }), WHERE);
    assert.deepEqual(again.bundles, result.bundles);
    assert.deepEqual(renderDeclarativeConfig(again.config), files);
  });
});

describe('filterCatalog: skipRange', () => {
  it('finds the head of a channel linked by skipRange only', async () => {
    const result = filterCatalog(await catalog(), op({ packages: [{ name: 'sky' }] }), WHERE);
    assert.deepEqual(reasons(result), { 'sky.v1.2.0': [head('candidate')] });
  });

  it('walks a range through skipRange edges: maxVersion below the head makes the highest in range the head', async () => {
    const result = filterCatalog(await catalog(), op({ packages: [{ name: 'sky', maxVersion: '1.1.0' }] }), WHERE);
    assert.deepEqual(reasons(result), { 'sky.v1.0.0': [inRange('<=1.1.0', 'candidate')], 'sky.v1.1.0': [inRange('<=1.1.0', 'candidate')] });
  });

  it('does not let a skipRange that reaches up to its own version make a cycle', async () => {
    const objects = [
      pkg('tie', 'stable'),
      channel('tie', 'stable', [
        { name: 'tie.v1.2.0', skipRange: '<1.3.0' },
        { name: 'tie.v1.2.1', skipRange: '<1.3.0' },
      ]),
      bundle('tie', { version: '1.2.0' }),
      bundle('tie', { version: '1.2.1' }),
    ];
    const result = filterCatalog(await catalog(objects), op({}), WHERE);
    assert.deepEqual(reasons(result), { 'tie.v1.2.1': [head('stable')] });
  });

  it('warns about a skipRange that does not parse and ignores it', async () => {
    const objects = [
      pkg('odd', 'stable'),
      channel('odd', 'stable', [{ name: 'odd.v1.0.0' }, { name: 'odd.v1.1.0', replaces: 'odd.v1.0.0', skipRange: '>=banana' }]),
      bundle('odd', { version: '1.0.0' }),
      bundle('odd', { version: '1.1.0' }),
    ];
    const result = filterCatalog(await catalog(objects), op({}), WHERE);
    assert.deepEqual(reasons(result), { 'odd.v1.1.0': [head('stable')] });
    assert.deepEqual(result.warnings, [
      'package "odd" channel "stable" entry "odd.v1.1.0": skipRange ignored: ">=banana" is not a version comparator in range ">=banana"',
    ]);
  });
});

describe('filterCatalog: dependencies', () => {
  it('adds a provider of a required API and the newest bundle of a required package in range, transitively', async () => {
    const objects = catalogObjects().map((o) =>
      o.name === 'bar.v0.2.0' ? bundle('bar', { version: '0.2.0', provides: [WIDGET], requiresGvk: [GADGET] }) : o,
    );
    const result = filterCatalog(await catalog(objects), op({ packages: [{ name: 'needy' }] }), WHERE);
    assert.deepEqual(reasons(result), {
      'bar.v0.2.0': ['dependency of needy.v1.0.0 (olm.gvk.required example.com/v1 Widget)'],
      'gadgets.v0.9.0': ['dependency of bar.v0.2.0 (olm.gvk.required example.com/v1alpha1 Gadget)'],
      'needy.v1.0.0': [head('stable')],
      'sky.v1.1.0': ['dependency of needy.v1.0.0 (olm.package.required sky >=1.0.0 <1.2.0)'],
    });
    assert.deepEqual(result.addedPackages, [
      { package: 'bar', reason: 'dependency of needy.v1.0.0 (olm.gvk.required example.com/v1 Widget)' },
      { package: 'sky', reason: 'dependency of needy.v1.0.0 (olm.package.required sky >=1.0.0 <1.2.0)' },
      {
        package: 'gadgets',
        reason: 'dependency of bar.v0.2.0 (olm.gvk.required example.com/v1alpha1 Gadget); default channel set to preview',
      },
    ]);
    const gadgets = result.config.packages.find((p) => p.name === 'gadgets')!;
    assert.equal(gadgets.defaultChannel, 'preview');
    assert.deepEqual(channelEntries(result), {
      'bar/alpha': ['bar.v0.2.0'],
      'gadgets/preview': ['gadgets.v0.9.0'],
      'needy/stable': ['needy.v1.0.0'],
      'sky/candidate': ['sky.v1.1.0'],
    });
  });

  it('prefers a package already selected as the provider of an API', async () => {
    const result = filterCatalog(await catalog(), op({ packages: [{ name: 'needy' }, { name: 'widgets-alt' }] }), WHERE);
    assert.deepEqual(Object.keys(reasons(result)), ['needy.v1.0.0', 'sky.v1.1.0', 'widgets-alt.v1.0.0']);
  });

  it('adds a required version below the selected head to the same channel, keeping it one graph', async () => {
    const result = filterCatalog(await catalog(), op({ packages: [{ name: 'needy' }, { name: 'sky' }, { name: 'bar' }] }), WHERE);
    assert.deepEqual(reasons(result)['sky.v1.1.0'], ['dependency of needy.v1.0.0 (olm.package.required sky >=1.0.0 <1.2.0)']);
    assert.deepEqual(channelEntries(result)['sky/candidate'], ['sky.v1.1.0', 'sky.v1.2.0']);
    assert.deepEqual(result.addedPackages, []);
  });

  it('adds nothing with skipDependencies: true', async () => {
    const result = filterCatalog(await catalog(), op({ skipDependencies: true, packages: [{ name: 'needy' }] }), WHERE);
    assert.deepEqual(Object.keys(reasons(result)), ['needy.v1.0.0']);
    assert.deepEqual(result.addedPackages, []);
  });

  it('warns about a requirement nothing provides', async () => {
    const objects = catalogObjects().map((o) =>
      o.name === 'zig.v2.0.0' ? bundle('zig', { version: '2.0.0', requiresGvk: [['nowhere.io', 'v1', 'Ghost']] }) : o,
    );
    const result = filterCatalog(await catalog(objects), op({ packages: [{ name: 'zig' }] }), WHERE);
    assert.deepEqual(Object.keys(reasons(result)), ['zig.v2.0.0']);
    assert.deepEqual(result.warnings, [
      'bundle zig.v2.0.0 (package zig) requires olm.gvk.required nowhere.io/v1 Ghost, which no bundle in a channel of the catalog provides',
    ]);
  });
});

describe('filterCatalog: errors name the config entry and what exists', () => {
  it('an unknown package', async () => {
    assert.equal(
      filterError(await catalog(), op({ packages: [{ name: 'foo' }, { name: 'fooo' }] })),
      `${WHERE}.packages[1] (fooo): the catalog has no package "fooo"; the catalog's packages are: bar, foo, gadgets, needy, sky, widgets-alt, zig`,
    );
  });

  it('an unknown channel', async () => {
    assert.equal(
      filterError(await catalog(), op({ packages: [{ name: 'foo', channels: [{ name: 'stable' }, { name: 'slow' }] }] })),
      `${WHERE}.packages[0].channels[1] (slow): package "foo" has no channel "slow"; its channels are: fast, stable`,
    );
  });

  it('an unknown defaultChannel', async () => {
    assert.equal(
      filterError(await catalog(), op({ packages: [{ name: 'foo', defaultChannel: 'slow' }] })),
      `${WHERE}.packages[0].defaultChannel (slow): package "foo" has no channel "slow"; its channels are: fast, stable`,
    );
  });

  it('a range that leaves the default channel empty', async () => {
    assert.equal(
      filterError(await catalog(), op({ packages: [{ name: 'foo', minVersion: '2.1.0' }] })),
      `${WHERE}.packages[0] (foo): no bundle of the default channel "stable" is in range >=2.1.0; set defaultChannel to one of the channels that keep bundles: fast`,
    );
  });

  it('a channel with several heads, naming them and why', async () => {
    const objects = [
      pkg('split', 'stable'),
      channel('split', 'stable', [{ name: 'split.v1.0.0' }, { name: 'split.v2.0.0' }, { name: 'split.v2.1.0', replaces: 'split.v2.0.0' }]),
      bundle('split', { version: '1.0.0' }),
      bundle('split', { version: '2.0.0' }),
      bundle('split', { version: '2.1.0' }),
    ];
    const expected =
      'channel "stable" has 2 heads, entries that no other entry replaces, skips or covers by skipRange: split.v1.0.0 (1.0.0), split.v2.1.0 (2.1.0); ' +
      'OLM needs exactly one head per channel (the catalog is inconsistent, or the range cut its upgrade graph apart)';
    assert.equal(filterError(await catalog(objects), op({ packages: [{ name: 'split' }] })), `${WHERE}.packages[0] (split): ${expected}`);
    assert.equal(filterError(await catalog(objects), op({})), `${WHERE} package "split": ${expected}`);
    // full: true keeps every entry and needs no head.
    assert.equal(filterCatalog(await catalog(objects), op({ full: true, packages: [{ name: 'split' }] }), WHERE).bundles.length, 3);
  });

  it('a cycle in the upgrade graph', async () => {
    const objects = [
      pkg('loop', 'stable'),
      channel('loop', 'stable', [
        { name: 'loop.v1.0.0', replaces: 'loop.v1.1.0' },
        { name: 'loop.v1.1.0', replaces: 'loop.v1.0.0' },
        { name: 'loop.v2.0.0', replaces: 'loop.v1.1.0' },
      ]),
      bundle('loop', { version: '1.0.0' }),
      bundle('loop', { version: '1.1.0' }),
      bundle('loop', { version: '2.0.0' }),
    ];
    assert.equal(
      filterError(await catalog(objects), op({ packages: [{ name: 'loop' }] })),
      `${WHERE}.packages[0] (loop): channel "stable" has a cycle in its upgrade graph: loop.v1.0.0 -> loop.v1.1.0 -> loop.v1.0.0`,
    );
  });

  it('a bundle version that is not semver under a range', async () => {
    const objects = [
      pkg('weird', 'stable'),
      channel('weird', 'stable', [{ name: 'weird.vnext' }]),
      { ...bundle('weird', { version: 'next' }), name: 'weird.vnext' },
    ];
    assert.equal(
      filterError(await catalog(objects), op({ packages: [{ name: 'weird', minVersion: '1.0.0' }] })),
      `${WHERE}.packages[0] (weird) channel "stable": bundle weird.vnext has version "next", which is not semantic versioning, so a version range cannot apply`,
    );
  });
});

describe('filterCatalog: larger and differently written catalogs', () => {
  it('walks a range through a channel longer than one 32-bit word of the reach bitsets', async () => {
    const versions = Array.from({ length: 70 }, (_, i) => `1.${i}.0`);
    const objects = [
      pkg('long', 'stable'),
      channel('long', 'stable', versions.map((v, i) => ({ name: `long.v${v}`, ...(i > 0 && { replaces: `long.v${versions[i - 1]}` }) }))),
      ...versions.map((version) => bundle('long', { version })),
    ];
    const result = filterCatalog(await catalog(objects), op({ packages: [{ name: 'long', minVersion: '1.30.0', maxVersion: '1.40.0' }] }), WHERE);
    assert.deepEqual(
      result.bundles.map((b) => b.version),
      versions.slice(30, 41).sort(),
    );
    assert.deepEqual(result.config.channels[0]!.entries.map((e) => e.name), versions.slice(30, 41).map((v) => `long.v${v}`));
  });

  it('suggests the closest names when the catalog has many packages', async () => {
    const objects = Array.from({ length: 30 }, (_, i) => [
      pkg(`pkg-${i}`, 'stable'),
      channel(`pkg-${i}`, 'stable', [{ name: `pkg-${i}.v1.0.0` }]),
      bundle(`pkg-${i}`, { version: '1.0.0' }),
    ]).flat();
    assert.equal(
      filterError(await catalog(objects), op({ packages: [{ name: 'pkg-7x' }] })),
      `${WHERE}.packages[0] (pkg-7x): the catalog has no package "pkg-7x"; the closest of the catalog's 30 packages: pkg-7, pkg-0, pkg-1, pkg-10, pkg-11`,
    );
  });

  it('selects the same from the catalog written as multi-document YAML and as pretty JSON in odd places', async () => {
    const objects = catalogObjects();
    const files: FbcFile[] = [
      { path: 'configs/foo/index.yaml', content: Buffer.from(objects.filter((o) => o.package === 'foo' || o.name === 'foo').map((o) => `---\n${stringify(o)}`).join('')) },
      { path: 'configs/deep/down/rest.json', content: Buffer.from(objects.filter((o) => o.package !== 'foo' && o.name !== 'foo').map((o) => JSON.stringify(o, null, 3)).join('')) },
      { path: 'configs/NOTES.txt', content: Buffer.from('not a catalog') },
    ];
    const yamlDc = await parseDeclarativeConfig(iterate(files));
    for (const operator of [op({}), op({ packages: [{ name: 'foo', minVersion: '1.1.0' }, { name: 'needy' }] })]) {
      assert.deepEqual(filterCatalog(yamlDc, operator, WHERE).bundles, filterCatalog(await catalog(), operator, WHERE).bundles);
    }
  });
});

describe('parseAndFilterCatalog', () => {
  const files = catalogFiles();
  const read = (): AsyncIterable<FbcFile> => iterate(files);

  it('gives the same result as parsing everything, with whole objects for every selected bundle', async () => {
    for (const operator of [op({ packages: [{ name: 'needy' }] }), op({}), op({ packages: [{ name: 'foo', minVersion: '1.1.0' }] })]) {
      const streamed = await parseAndFilterCatalog(read, operator, WHERE);
      const whole = filterCatalog(await catalog(), operator, WHERE);
      assert.deepEqual(streamed.bundles, whole.bundles);
      assert.deepEqual(renderDeclarativeConfig(streamed.config), renderDeclarativeConfig(whole.config));
      assert.ok(streamed.config.bundles.every((b) => !b.outline));
    }
  });

  it('parses again only the files of the selected packages', async () => {
    let calls = 0;
    const needed = new Set(['configs/bar/catalog.json', 'configs/needy/catalog.json', 'configs/sky/catalog.json']);
    // The second time round every other file is garbage: parsing one would throw.
    const secondPassGarbage = (): AsyncIterable<FbcFile> => {
      const pass = ++calls;
      return iterate(files.map((f) => (pass === 1 || needed.has(f.path) ? f : { path: f.path, content: Buffer.from('{ garbage') })));
    };
    const result = await parseAndFilterCatalog(secondPassGarbage, op({ packages: [{ name: 'needy' }] }), WHERE);
    assert.equal(calls, 2);
    assert.deepEqual(Object.keys(reasons(result)), ['bar.v0.2.0', 'needy.v1.0.0', 'sky.v1.1.0']);
    assert.deepEqual(result.config.bundles.map((b) => b.raw.name), ['bar.v0.2.0', 'needy.v1.0.0', 'sky.v1.1.0']);
  });

  it('keeps only outlines for full: true without packages (nothing to rebuild)', async () => {
    const result = await parseAndFilterCatalog(read, op({ full: true }), WHERE);
    assert.equal(result.rebuild, false);
    assert.equal(result.bundles.length, 20);
    assert.ok(result.config.bundles.every((b) => b.outline));
    assert.deepEqual(result.bundles.find((b) => b.name === 'foo.v1.2.0')!.relatedImages.map((r) => r.image), [
      'quay.io/acme/foo-bundle:v1.2.0',
      'quay.io/acme/foo-operator:v1.2.0',
      SHARED,
    ]);
  });
});
