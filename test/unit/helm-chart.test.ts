import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readChartArchive, writeChartArchive } from '../../src/helm/chart-archive.js';
import { loadChart } from '../../src/helm/chart.js';
import { chartMetadataPath, chartUrl, indexMetadataPath, indexUrl, parseIndex, selectVersion } from '../../src/helm/repository.js';
import { chartFiles, packChart, tgz } from '../support/helm-repo.js';

describe('chart archives', () => {
  const spec = {
    name: 'app',
    version: '1.2.3',
    values: 'image: x\n',
    templates: { 'deploy.yaml': 'kind: Deployment\n', '_helpers.tpl': '{{- define "x" }}{{ end }}' },
    files: { 'config/a.txt': 'A' },
    subcharts: [
      { chart: { name: 'db', version: '0.1.0', templates: { 's.yaml': 'kind: StatefulSet\n' } }, as: 'tgz' as const },
      { chart: { name: 'cache', version: '0.2.0' }, as: 'dir' as const },
    ],
  };

  it('reads what helm package writes: the top-level directory stripped, sub-charts as archives and directories', async () => {
    const files = await readChartArchive(packChart(spec), 'test');
    assert.deepEqual([...files.keys()].sort(), [...chartFiles(spec).keys()].sort());
    const chart = await loadChart(files, 'test');
    assert.equal(chart.label, 'app-1.2.3');
    assert.deepEqual(chart.values, { image: 'x' });
    assert.deepEqual(chart.templates.map((t) => t.name), ['templates/_helpers.tpl', 'templates/deploy.yaml']);
    assert.deepEqual(chart.files.map((f) => f.name), ['config/a.txt']);
    assert.deepEqual(chart.dependencies.map((d) => d.label), ['cache-0.2.0', 'db-0.1.0']);
    assert.deepEqual(chart.dependencies[1]!.templates.map((t) => t.name), ['templates/s.yaml']);
  });

  it('round-trips through writeChartArchive', async () => {
    const files = chartFiles(spec);
    assert.deepEqual(await readChartArchive(await writeChartArchive('app', files), 'test'), files);
  });

  const hostile: [string, Parameters<typeof tgz>[0], RegExp][] = [
    ['parent directory', [{ name: 'app/../../etc/passwd', data: 'x' }], /points outside the chart/],
    ['absolute path after the top directory', [{ name: 'app//etc/passwd', data: 'x' }], /absolute path/],
    ['symlink', [{ name: 'app/Chart.yaml', data: 'name: a\n' }, { name: 'app/templates/x', type: '2' }], /is a symlink: a chart holds regular files only/],
    ['Chart.yaml at the top', [{ name: 'Chart.yaml', data: 'name: a\n' }], /Chart\.yaml is not inside the chart's directory/],
  ];
  for (const [what, entries, message] of hostile) {
    it(`refuses an archive with a ${what}`, async () => {
      await assert.rejects(readChartArchive(tgz(entries), 'chart bad.tgz'), (err: Error) => message.test(err.message) && err.message.startsWith('chart bad.tgz: '));
    });
  }

  it('refuses bytes that are not gzip', async () => {
    await assert.rejects(readChartArchive(Buffer.from('<html>not found</html>'), 'chart x.tgz'), /chart x\.tgz: not a gzipped chart archive/);
  });

  it('refuses a chart without Chart.yaml, or with a bad version, naming it', async () => {
    await assert.rejects(loadChart(new Map([['values.yaml', Buffer.from('a: 1')]]), 'mirror.helm.local[0]'), /mirror\.helm\.local\[0\]: Chart\.yaml is missing/);
    const bad = new Map([['Chart.yaml', Buffer.from('apiVersion: v2\nname: a\nversion: one\n')]]);
    await assert.rejects(loadChart(bad, 'x'), /x: Chart\.yaml version "one" is not a semantic version/);
  });

  it('reads YAML 1.1 booleans in values as Helm does', async () => {
    const files = chartFiles({ name: 'a', version: '1.0.0', values: 'enabled: yes\nswitch: off\n' });
    assert.deepEqual((await loadChart(files, 'x')).values, { enabled: true, switch: false });
  });
});

describe('repository index', () => {
  const index = parseIndex(
    Buffer.from(`apiVersion: v1
entries:
  web:
  - {name: web, version: 1.0.0, urls: [web-1.0.0.tgz]}
  - {name: web, version: 2.0.0-rc.1, urls: [web-2.0.0-rc.1.tgz]}
  - {name: web, version: 1.10.0, urls: [web-1.10.0.tgz]}
  - {name: web, version: 1.9.2, urls: [web-1.9.2.tgz]}
  - {name: web, version: v1.1, urls: [web-v1.1.tgz]}
  common:
  - {name: common, version: 0.1.0, type: library, urls: [https://other.example/common-0.1.0.tgz]}
`),
    'repo r',
  );
  const pick = (constraint?: string) => selectVersion(index, 'web', constraint, 'repo r').version;

  it('sorts newest first and picks the newest release when no version is given', () => {
    assert.deepEqual(index.get('web')!.map((e) => e.version), ['2.0.0-rc.1', '1.10.0', '1.9.2', 'v1.1', '1.0.0']);
    assert.equal(pick(), '1.10.0');
  });
  it('ranges', () => {
    assert.equal(pick('~1.9'), '1.9.2');
    assert.equal(pick('^1.0, < 1.10'), '1.9.2');
    assert.equal(pick('1.1.x'), 'v1.1');
    assert.equal(pick('>=2.0.0-0'), '2.0.0-rc.1');
  });
  it('an exact version string wins, even a non-canonical one', () => {
    assert.equal(pick('v1.1'), 'v1.1');
    assert.equal(pick('1.0.0'), '1.0.0');
  });
  it('errors name the repository, chart and what exists', () => {
    assert.throws(() => pick('3.x'), /repo r: chart web: no version matches "3\.x" \(the index has 2\.0\.0-rc\.1, 1\.10\.0, 1\.9\.2, v1\.1, 1\.0\.0\)/);
    assert.throws(() => selectVersion(index, 'nope', undefined, 'repo r'), /repo r: chart nope is not in the repository index/);
    assert.throws(() => pick('>>1'), /repo r: chart web: version ">>1" is not a version or version range/);
  });
  it('keeps the chart type', () => assert.equal(index.get('common')![0]!.type, 'library'));
  it('refuses a document that is not an index', () => assert.throws(() => parseIndex(Buffer.from('<html></html>'), 'repo r'), /repo r: index\.yaml has no entries/));
});

describe('repository URLs and working-dir paths', () => {
  it('index URL with or without the trailing slash', () => {
    assert.equal(indexUrl('https://charts.example.com/stable'), 'https://charts.example.com/stable/index.yaml');
    assert.equal(indexUrl('https://charts.example.com/stable/'), 'https://charts.example.com/stable/index.yaml');
  });
  it('chart URLs: relative resolved under the repository, absolute kept', () => {
    assert.equal(chartUrl('https://c.example/stable', 'web-1.0.0.tgz'), 'https://c.example/stable/web-1.0.0.tgz');
    assert.equal(chartUrl('https://c.example/stable/', 'sub/web-1.0.0.tgz'), 'https://c.example/stable/sub/web-1.0.0.tgz');
    assert.equal(chartUrl('https://c.example/stable', 'https://cdn.example/web-1.0.0.tgz'), 'https://cdn.example/web-1.0.0.tgz');
  });
  it('working-dir paths as oc-mirror lays them out', () => {
    assert.equal(indexMetadataPath('http://127.0.0.1:8080/charts/stable/'), 'helm/indexes/127.0.0.1:8080/charts/stable/index.yaml');
    assert.equal(indexMetadataPath('https://charts.example.com'), 'helm/indexes/charts.example.com/index.yaml');
    assert.equal(chartMetadataPath('web', '1.0.0'), 'helm/charts/web-1.0.0.tgz');
  });
});
