import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CatalogParseError,
  parseDeclarativeConfig,
  renderDeclarativeConfig,
  type FbcFile,
} from '../../src/operator/declarative-config.js';
import { parseVersion, parseVersionRange } from '../../src/operator/version-range.js';

async function* iterate(files: FbcFile[]): AsyncGenerator<FbcFile> {
  yield* files;
}

const file = (path: string, text: string): FbcFile => ({ path, content: Buffer.from(text) });

async function parse(files: FbcFile[], opts?: Parameters<typeof parseDeclarativeConfig>[1]) {
  return parseDeclarativeConfig(iterate(files), opts);
}

async function parseError(files: FbcFile[]): Promise<string> {
  try {
    await parse(files);
  } catch (err) {
    assert.ok(err instanceof CatalogParseError, `expected a CatalogParseError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('parse did not fail');
}

const pkgJson = { schema: 'olm.package', name: 'etcd', defaultChannel: 'alpha', icon: { base64data: 'AAAA', mediatype: 'image/png' } };
const channelJson = {
  schema: 'olm.channel',
  package: 'etcd',
  name: 'alpha',
  entries: [{ name: 'etcd.v0.9.0' }, { name: 'etcd.v0.9.2', replaces: 'etcd.v0.9.0', skips: ['etcd.v0.9.1'], skipRange: '<0.9.2' }],
};
function bundleJson(version: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema: 'olm.bundle',
    package: 'etcd',
    name: `etcd.v${version}`,
    image: `quay.io/etcd/bundle:v${version}`,
    properties: [
      { type: 'olm.package', value: { packageName: 'etcd', version } },
      { type: 'olm.gvk', value: { group: 'etcd.database.coreos.com', kind: 'EtcdCluster', version: 'v1beta2' } },
      { type: 'olm.bundle.object', value: { data: 'eyJraW5kIjoiQ1NWIn0=' } },
    ],
    relatedImages: [{ name: 'etcd', image: 'quay.io/etcd/etcd:v3' }, { image: `quay.io/etcd/bundle:v${version}` }],
    ...extra,
  };
}

describe('parseDeclarativeConfig', () => {
  it('reads a JSON stream of pretty, compact and back-to-back objects, strings holding braces and escapes', async () => {
    const tricky = bundleJson('0.9.0', { note: 'a "}" and a \\ and {[ ]} and a final \\\\' });
    const text = `${JSON.stringify(pkgJson, null, 4)}\n\n${JSON.stringify(channelJson)}${JSON.stringify(tricky)}  \r\n\t${JSON.stringify(bundleJson('0.9.2'))}`;
    const dc = await parse([file('configs/etcd/catalog.json', text)]);
    assert.deepEqual(dc.packages, [{ schema: 'olm.package', name: 'etcd', defaultChannel: 'alpha', icon: pkgJson.icon, raw: pkgJson }]);
    assert.deepEqual(dc.channels, [
      {
        schema: 'olm.channel',
        package: 'etcd',
        name: 'alpha',
        entries: [{ name: 'etcd.v0.9.0' }, { name: 'etcd.v0.9.2', replaces: 'etcd.v0.9.0', skips: ['etcd.v0.9.1'], skipRange: '<0.9.2' }],
        raw: channelJson,
      },
    ]);
    assert.deepEqual(dc.bundles.map((b) => [b.name, b.version, b.image]), [
      ['etcd.v0.9.0', '0.9.0', 'quay.io/etcd/bundle:v0.9.0'],
      ['etcd.v0.9.2', '0.9.2', 'quay.io/etcd/bundle:v0.9.2'],
    ]);
    assert.equal(dc.bundles[0]!.raw.note, tricky.note);
    assert.deepEqual(dc.bundles[1]!.relatedImages, [{ name: 'etcd', image: 'quay.io/etcd/etcd:v3' }, { image: 'quay.io/etcd/bundle:v0.9.2' }]);
    assert.deepEqual(dc.bundles[1]!.properties.map((p) => p.type), ['olm.package', 'olm.gvk', 'olm.bundle.object']);
  });

  it('reads multi-document YAML, .yml too, and skips empty documents', async () => {
    const yaml = [
      '---',
      'schema: olm.package',
      'name: etcd',
      'defaultChannel: alpha',
      'description: |',
      '  A key value store',
      '---',
      '# nothing here',
      '---',
      'schema: olm.channel',
      'package: etcd',
      'name: alpha',
      'entries:',
      '  - name: etcd.v0.9.0',
      '',
    ].join('\n');
    const bundleYaml = [
      'schema: olm.bundle',
      'package: etcd',
      'name: etcd.v0.9.0',
      'image: quay.io/etcd/bundle:v0.9.0',
      'properties:',
      '  - type: olm.package',
      '    value: {packageName: etcd, version: 0.9.0}',
      '',
    ].join('\n');
    const dc = await parse([file('index/etcd.yaml', yaml), file('index/bundles/etcd-0.9.0.yml', bundleYaml)]);
    assert.equal(dc.packages[0]!.description, 'A key value store\n');
    assert.deepEqual(dc.channels[0]!.entries, [{ name: 'etcd.v0.9.0' }]);
    assert.deepEqual(dc.bundles[0]!.relatedImages, []);
    assert.equal(dc.bundles[0]!.version, '0.9.0');
  });

  it('accepts any layout: one package over several files in several forms, ignores files that are not JSON or YAML', async () => {
    const dc = await parse([
      file('configs/README.md', '# not a catalog {'),
      file('configs/a/b/c/etcd-bundles.json', `${JSON.stringify(bundleJson('0.9.2'))}\n${JSON.stringify(bundleJson('0.9.0'))}`),
      file('configs/etcd.json', JSON.stringify(pkgJson)),
      file('configs/x/channels.yaml', `schema: olm.channel\npackage: etcd\nname: alpha\nentries: [{name: etcd.v0.9.0}, {name: etcd.v0.9.2, replaces: etcd.v0.9.0}]\n`),
      file('configs/.hidden/other.json', '{"schema":"acme.thing","value":1}'),
      file('configs/empty.json', '  \n'),
    ]);
    assert.deepEqual(dc.packages.map((p) => p.name), ['etcd']);
    assert.deepEqual(dc.bundles.map((b) => b.name), ['etcd.v0.9.2', 'etcd.v0.9.0']);
    assert.deepEqual(dc.channels.map((c) => c.entries.length), [2]);
    assert.deepEqual(dc.others, [{ schema: 'acme.thing', value: 1 }]);
  });

  it('keeps deprecations and objects of unknown schemas', async () => {
    const deprecation = { schema: 'olm.deprecations', package: 'etcd', entries: [{ reference: { schema: 'olm.package' }, message: 'gone' }] };
    const dc = await parse([file('c.json', JSON.stringify(deprecation) + JSON.stringify({ schema: 'acme.note', package: 'etcd', text: 'x' }))]);
    assert.deepEqual(dc.deprecations, [{ schema: 'olm.deprecations', package: 'etcd', raw: deprecation }]);
    assert.deepEqual(dc.others, [{ schema: 'acme.note', package: 'etcd', text: 'x' }]);
  });

  it('keeps packages not kept as small outlines: package and channels, bundles with dependency properties and related images only', async () => {
    const text = [pkgJson, channelJson, bundleJson('0.9.0'), { schema: 'olm.deprecations', package: 'etcd', entries: [] }, { schema: 'acme.note', package: 'etcd' }]
      .map((o) => JSON.stringify(o))
      .join('\n');
    const dc = await parse([file('c.json', text)], { keep: (p) => p !== 'etcd' });
    assert.deepEqual(dc.packages, [{ schema: 'olm.package', name: 'etcd', defaultChannel: 'alpha', raw: { schema: 'olm.package', name: 'etcd', defaultChannel: 'alpha' } }]);
    assert.equal(dc.channels.length, 1);
    assert.deepEqual(dc.bundles, [
      {
        schema: 'olm.bundle',
        package: 'etcd',
        name: 'etcd.v0.9.0',
        image: 'quay.io/etcd/bundle:v0.9.0',
        version: '0.9.0',
        relatedImages: [{ name: 'etcd', image: 'quay.io/etcd/etcd:v3' }, { image: 'quay.io/etcd/bundle:v0.9.0' }],
        properties: [
          { type: 'olm.package', value: { packageName: 'etcd', version: '0.9.0' } },
          { type: 'olm.gvk', value: { group: 'etcd.database.coreos.com', kind: 'EtcdCluster', version: 'v1beta2' } },
        ],
        raw: {},
        outline: true,
      },
    ]);
    assert.deepEqual(dc.deprecations, []);
    assert.deepEqual(dc.others, []);
    assert.throws(() => renderDeclarativeConfig(dc), /parsed in outline/);
  });

  it('outlines the bundles keepBundle refuses', async () => {
    const text = [bundleJson('0.9.0'), bundleJson('0.9.2')].map((o) => JSON.stringify(o)).join('');
    const dc = await parse([file('c.json', text)], { keepBundle: (_p, name) => name === 'etcd.v0.9.2' });
    assert.deepEqual(dc.bundles.map((b) => [b.name, b.outline ?? false]), [['etcd.v0.9.0', true], ['etcd.v0.9.2', false]]);
  });
});

describe('parseDeclarativeConfig errors name the file and the object', () => {
  it('JSON that does not parse', async () => {
    const message = await parseError([file('configs/etcd/catalog.json', `${JSON.stringify(pkgJson)}\n{"schema": "olm.channel", "name": }`)]);
    assert.match(message, /^configs\/etcd\/catalog\.json: object 2 \(byte \d+\): /);
  });

  it('a JSON object that is not closed', async () => {
    assert.equal(await parseError([file('c.json', '{"schema": "olm.package", "name": "x"')]), 'c.json: the JSON object starting at byte 0 is not closed');
    assert.equal(await parseError([file('c.json', '{"schema": "olm.package, "name": "x"}')]), 'c.json: the JSON string starting at byte 35 is not closed');
  });

  it('something other than an object', async () => {
    assert.equal(await parseError([file('c.json', '[1, 2]')]), 'c.json: byte 0: expected a JSON object, found "["');
    assert.equal(await parseError([file('c.yaml', '- a\n- b\n')]), 'c.yaml: document 1: expected a mapping, found a list');
  });

  it('YAML that does not parse', async () => {
    assert.match(await parseError([file('c.yaml', 'schema: olm.package\nname: [x\n')]), /^c\.yaml: document 1: /);
  });

  it('objects without schema, without a needed field, or with a bundle lacking its olm.package property', async () => {
    assert.equal(await parseError([file('c.json', '{"name": "x"}')]), 'c.json: object 1: the object has no "schema"');
    assert.equal(await parseError([file('c.json', '{"schema": "olm.channel", "name": "x"}')]), 'c.json: object 1: "package" must be a non-empty string');
    const noVersion = { ...bundleJson('1.0.0'), properties: [] };
    assert.equal(
      await parseError([file('c.json', JSON.stringify(noVersion))]),
      'c.json: object 1 (bundle "etcd.v1.0.0"): a bundle needs exactly one "olm.package" property, found 0',
    );
  });

  it('duplicates', async () => {
    assert.equal(await parseError([file('a.json', JSON.stringify(pkgJson)), file('b.json', JSON.stringify(pkgJson))]), 'b.json: object 1: package "etcd" is defined twice');
    const doubled = { ...channelJson, entries: [{ name: 'a' }, { name: 'a' }] };
    assert.equal(await parseError([file('a.json', JSON.stringify(doubled))]), 'a.json: object 1: channel "alpha" entries[1]: entry "a" is listed twice');
  });
});

describe('renderDeclarativeConfig', () => {
  it('writes one JSON stream per package in schema order, objects without package in __global, the same bytes every time', async () => {
    const objects = [
      { schema: 'acme.global', text: 'g' },
      bundleJson('0.9.2'),
      channelJson,
      { ...channelJson, name: 'aardvark' },
      bundleJson('0.9.0'),
      pkgJson,
      { schema: 'olm.package', name: 'another', defaultChannel: 'alpha' },
    ];
    const dc = await parse([file('all.json', objects.map((o) => JSON.stringify(o)).join('\n'))]);
    const files = renderDeclarativeConfig(dc);
    assert.deepEqual(files.map((f) => f.path), ['another/catalog.json', 'etcd/catalog.json', '__global/catalog.json']);
    const etcd = files[1]!.content.toString();
    const order = [...etcd.matchAll(/^\{\n {2}"schema": "([^"]+)",\n {2}"(?:name|package)": "([^"]+)"/gm)].map((m) => m[1]);
    assert.deepEqual(order, ['olm.package', 'olm.channel', 'olm.channel', 'olm.bundle', 'olm.bundle']);
    assert.ok(etcd.indexOf('"name": "aardvark"') < etcd.indexOf('"name": "alpha"'));
    assert.ok(etcd.indexOf('"name": "etcd.v0.9.0"') < etcd.indexOf('"name": "etcd.v0.9.2"'));
    const again = await parse(files);
    assert.deepEqual(renderDeclarativeConfig(again), files);
    assert.deepEqual(again.bundles.map((b) => b.raw), [bundleJson('0.9.0'), bundleJson('0.9.2')]);
  });
});

describe('version ranges (the syntax of skipRange and olm.package.required)', () => {
  const matches = (range: string, version: string): boolean => parseVersionRange(range).matches(parseVersion(version)!);

  it('ANDs comparators by space and ORs alternatives by ||', () => {
    assert.equal(matches('>=4.1.0 <4.2.0', '4.1.9'), true);
    assert.equal(matches('>=4.1.0 <4.2.0', '4.2.0'), false);
    assert.equal(matches('<1.2.3', '1.2.2'), true);
    assert.equal(matches('<1.2.3', '1.2.3'), false);
    assert.equal(matches('<1.0.0 || >=2.0.0', '1.5.0'), false);
    assert.equal(matches('<1.0.0 || >=2.0.0', '2.0.0'), true);
    assert.equal(matches('>= 1.0.0  <= 1.1.0', '1.1.0'), true);
    assert.equal(matches('1.2.3', '1.2.3'), true);
    assert.equal(matches('=1.2.3', '1.2.4'), false);
    assert.equal(matches('!=1.2.3', '1.2.4'), true);
    assert.equal(matches('!1.2.3', '1.2.3'), false);
  });

  it('orders prereleases by semver precedence and never excludes them', () => {
    assert.equal(matches('>=1.0.0 <2.0.0', '1.5.0-rc.1'), true);
    assert.equal(matches('<2.0.0', '2.0.0-rc.1'), true);
    assert.equal(matches('>=2.0.0', '2.0.0-rc.1'), false);
    assert.equal(matches('>=0.9.0-0', '0.9.0-alpha'), true);
  });

  it('expands wildcards and missing parts', () => {
    assert.equal(matches('1.2.x', '1.2.9'), true);
    assert.equal(matches('1.2.x', '1.3.0'), false);
    assert.equal(matches('<=1.2', '1.2.7'), true);
    assert.equal(matches('>1.x', '1.9.9'), false);
    assert.equal(matches('>1.x', '2.0.0'), true);
    assert.equal(matches('<1.x', '0.9.0'), true);
    assert.equal(matches('!=1.x', '1.4.0'), false);
    assert.equal(matches('*', '0.0.1'), true);
  });

  it('refuses what does not parse, naming the part', () => {
    assert.throws(() => parseVersionRange('>=banana'), /">=banana" is not a version comparator in range ">=banana"/);
    assert.throws(() => parseVersionRange('>=1.0.0 ||'), /empty alternative/);
    assert.throws(() => parseVersionRange('1.x.3'), /number after a wildcard/);
    assert.throws(() => parseVersionRange('>='), /without a version/);
  });

  it('reads bundle versions strictly, tolerating a leading v', () => {
    assert.equal(parseVersion('1.2.3-rc.1+build')?.version, '1.2.3-rc.1');
    assert.equal(parseVersion('v4.18.0')?.version, '4.18.0');
    assert.equal(parseVersion('next'), undefined);
  });
});
