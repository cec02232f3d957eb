import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Chart, Values } from '../../src/helm/chart.js';
import { coalesceValues, pathValue, prepareChart, satisfiesConstraint } from '../../src/helm/values.js';

/** A chart made of metadata and values only: what value processing looks at. */
function chart(name: string, values: Values, opts: { version?: string; deps?: Chart['metadata']['dependencies']; subs?: Chart[] } = {}): Chart {
  const version = opts.version ?? '1.0.0';
  return {
    metadata: { name, version, apiVersion: 'v2', type: 'application', dependencies: opts.deps ?? [], fields: { name, version } },
    values,
    templates: [],
    files: [],
    dependencies: opts.subs ?? [],
    label: `${name}-${version}`,
  };
}

const names = (c: Chart): string[] => c.dependencies.map((d) => d.metadata.name);

describe('coalesceValues', () => {
  it('parent values under the sub-chart name win over its defaults, deeply; other defaults stay', () => {
    const sub = chart('db', { image: { repository: 'db', tag: '1' }, port: 5432 });
    const parent = chart('app', { db: { image: { tag: '2' } }, replicas: 1 }, { subs: [sub] });
    assert.deepEqual(coalesceValues(parent), {
      db: { image: { repository: 'db', tag: '2' }, port: 5432, global: {} },
      replicas: 1,
    });
  });

  it('user values win over chart defaults; null deletes a default', () => {
    const c = chart('app', { a: 1, b: { c: 2, d: 3 } });
    assert.deepEqual(coalesceValues(c, { a: 9, b: { d: null } }), { a: 9, b: { c: 2 } });
  });

  it('global goes down to every level; the parent wins on scalars, tables merge', () => {
    const leaf = chart('leaf', { global: { registry: 'leaf.example', leafOnly: true, pull: { policy: 'Always', secret: 's' } } });
    const mid = chart('mid', {}, { subs: [leaf] });
    const top = chart('top', { global: { registry: 'top.example', pull: { policy: 'IfNotPresent' } } }, { subs: [mid] });
    const v = coalesceValues(top);
    assert.deepEqual(pathValue(v, 'mid.leaf.global'), { registry: 'top.example', leafOnly: true, pull: { policy: 'IfNotPresent', secret: 's' } });
    assert.equal(pathValue(v, 'mid.global.registry'), 'top.example');
  });

  it('does not change the chart it reads', () => {
    const sub = chart('db', { image: { tag: '1' } });
    const parent = chart('app', { db: { image: { repository: 'x' } } }, { subs: [sub] });
    coalesceValues(parent);
    assert.deepEqual(sub.values, { image: { tag: '1' } });
    assert.deepEqual(parent.values, { db: { image: { repository: 'x' } } });
  });
});

describe('prepareChart: aliases, conditions, tags', () => {
  const db = chart('db', { image: 'db:1', enabled: true });
  const cache = chart('cache', { image: 'cache:1' });

  it('a sub-chart declared under two aliases appears twice, each with its own values', () => {
    const app = chart(
      'app',
      { primary: { image: 'db:primary' } },
      { deps: [{ name: 'db', alias: 'primary' }, { name: 'db', alias: 'replica' }], subs: [db] },
    );
    const { chart: tree, values } = prepareChart(app);
    assert.deepEqual(names(tree), ['primary', 'replica']);
    assert.equal(pathValue(values, 'primary.image'), 'db:primary');
    assert.equal(pathValue(values, 'replica.image'), 'db:1');
    assert.deepEqual(tree.metadata.dependencies.map((d) => d.name), ['primary', 'replica']);
  });

  it('a condition false in the parent values disables; a missing condition path leaves it enabled', () => {
    const app = chart(
      'app',
      { cache: { enabled: false } },
      { deps: [{ name: 'cache', condition: 'cache.enabled' }, { name: 'db', condition: 'db.nothere' }], subs: [cache, db] },
    );
    assert.deepEqual(names(prepareChart(app).chart), ['db']);
  });

  it('the first condition that resolves to a bool decides, and conditions beat tags', () => {
    const app = chart(
      'app',
      { tags: { backend: false }, db: { on: true }, other: 'not a bool' },
      { deps: [{ name: 'db', condition: 'other,db.on', tags: ['backend'] }], subs: [db] },
    );
    assert.deepEqual(names(prepareChart(app).chart), ['db']);
  });

  it('tags: any true tag enables, all false disables, unknown tags leave it enabled', () => {
    const deps = [
      { name: 'db', tags: ['a', 'b'] },
      { name: 'cache', tags: ['b'] },
    ];
    assert.deepEqual(names(prepareChart(chart('app', { tags: { a: true, b: false } }, { deps, subs: [db, cache] })).chart), ['db']);
    assert.deepEqual(names(prepareChart(chart('app', { tags: { c: false } }, { deps, subs: [db, cache] })).chart), ['db', 'cache']);
  });

  it('an alias can be disabled by a condition under its alias', () => {
    const app = chart(
      'app',
      { replica: { enabled: false } },
      { deps: [{ name: 'db', alias: 'primary', condition: 'primary.enabled' }, { name: 'db', alias: 'replica', condition: 'replica.enabled' }], subs: [db] },
    );
    assert.deepEqual(names(prepareChart(app).chart), ['primary']);
  });

  it('conditions of grandchildren are read under their full path', () => {
    const leaf = chart('leaf', {});
    const mid = chart('mid', { leaf: { enabled: true } }, { deps: [{ name: 'leaf', condition: 'leaf.enabled' }], subs: [leaf] });
    const top = chart('top', { mid: { leaf: { enabled: false } } }, { deps: [{ name: 'mid' }], subs: [mid] });
    assert.deepEqual(names(prepareChart(top).chart.dependencies[0]!), []);
  });

  it('vendored charts that Chart.yaml does not declare are kept; a version range picks the vendored chart', () => {
    const app = chart('app', {}, { deps: [{ name: 'db', version: '^1.0.0' }], subs: [db, cache] });
    assert.deepEqual(names(prepareChart(app).chart).sort(), ['cache', 'db']);
  });

  it('a declared dependency that is not vendored is an error naming it', () => {
    const app = chart('app', {}, { deps: [{ name: 'db', version: '~2.0' }], subs: [db] });
    assert.throws(() => prepareChart(app), /chart app-1\.0\.0: dependency db ~2\.0 is declared in Chart\.yaml but not vendored in charts\//);
  });

  it('import-values: exports and child/parent tables become parent defaults, below the parent values', () => {
    const sub = chart('db', { exports: { data: { port: 5432, host: 'db' } }, image: { tag: '7' } });
    const app = chart(
      'app',
      { host: 'mine' },
      { deps: [{ name: 'db', importValues: ['data', { child: 'image', parent: 'dbImage' }] }], subs: [sub] },
    );
    const { values } = prepareChart(app);
    assert.equal(values.port, 5432);
    assert.equal(values.host, 'mine');
    assert.deepEqual(values.dbImage, { tag: '7' });
  });
});

describe('satisfiesConstraint (Masterminds ranges as Helm reads them)', () => {
  const cases: [string, string, boolean][] = [
    ['1.2.3', '^1.2', true],
    ['2.0.0', '^1.2', false],
    ['1.2.9', '~1.2.3', true],
    ['1.3.0', '~1.2.3', false],
    ['1.5.0', '>= 1.2, < 2.0', true],
    ['2.0.0', '>= 1.2, < 2.0', false],
    ['1.5.0', '>=1.2 <2.0', true],
    ['1.2.7', '1.2.x', true],
    ['1.3.0', '1.2.x', false],
    ['1.3.0', '!= 1.3.0', false],
    ['1.3.1', '>1.0, != 1.3.0', true],
    ['3.0.0', '^1 || ^3', true],
    ['1.0.0', '=> 1.0.0', true],
    ['1.0.0-rc.1', '*', false],
    ['1.0.0-rc.1', '>= 1.0.0-rc.0', true],
    ['1.4.0', '1.2 - 1.4', true],
  ];
  for (const [version, range, expected] of cases) {
    it(`${version} ${expected ? 'satisfies' : 'does not satisfy'} "${range}"`, () => assert.equal(satisfiesConstraint(version, range), expected));
  }
  it('a range that does not parse throws', () => assert.throws(() => satisfiesConstraint('1.0.0', '>>1')));
});
