import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadChart } from '../../src/helm/chart.js';
import { capabilitiesObject, Files, VersionSet } from '../../src/helm/render-data.js';
import { renderChart } from '../../src/helm/render.js';
import { chartFiles, type ChartSpec } from '../support/helm-repo.js';

const render = async (spec: ChartSpec) => renderChart(await loadChart(chartFiles(spec), 'test'));

describe('template data', () => {
  const files = Files.of([
    { name: 'config/a.conf', data: Buffer.from('A=1') },
    { name: 'config/sub/b.conf', data: Buffer.from('B=2') },
    { name: 'README.md', data: Buffer.from('line1\nline2') },
  ]);
  it('Files: Get, Lines, Glob (* within a directory, ** across), AsConfig, AsSecrets', () => {
    assert.equal(files.Get('config/a.conf'), 'A=1');
    assert.equal(files.Get('missing'), '');
    assert.deepEqual(files.Lines('README.md'), ['line1', 'line2']);
    assert.equal(files.Glob('config/*').AsConfig(), 'a.conf: A=1');
    assert.equal(files.Glob('config/**').AsConfig(), 'a.conf: A=1\nb.conf: B=2');
    assert.equal(files.Glob('config/{a,x}.conf').AsSecrets(), 'a.conf: QT0x');
  });
  it('Capabilities: Helm defaults, Has as a method', () => {
    const caps = capabilitiesObject();
    const versions = caps.APIVersions as VersionSet;
    assert.equal(versions.Has('apps/v1'), true);
    assert.equal(versions.Has('route.openshift.io/v1'), false);
    assert.deepEqual({ ...(caps.KubeVersion as object) }, { Major: '1', Minor: '31', Version: 'v1.31.0' });
  });
});

describe('renderChart', () => {
  it('renders each chart of the tree with its own values and names; partials, NOTES.txt and library templates are not output', async () => {
    const lib: ChartSpec = { name: 'lib', version: '1.0.0', type: 'library', templates: { '_l.tpl': '{{ define "lib.name" }}lib-{{ .Chart.Name }}{{ end }}', 'ignored.yaml': 'kind: Ignored\n' } };
    const sub: ChartSpec = { name: 'sub', version: '1.0.0', values: 'tag: own\nkeep: sub\n', templates: { 'x.yaml': 'name: {{ .Chart.Name }}\ntag: {{ .Values.tag }}\nkeep: {{ .Values.keep }}\nregistry: {{ .Values.global.registry }}\ntemplate: {{ .Template.Name }}\n' } };
    const out = await render({
      name: 'top',
      version: '2.0.0',
      appVersion: '9',
      dependencies: [{ name: 'sub', alias: 'two' }, { name: 'sub' }, { name: 'lib' }],
      values: 'global:\n  registry: r.example\ntwo:\n  tag: parent\n',
      templates: { 'a.yaml': 'app: {{ .Chart.AppVersion }}\nrelease: {{ .Release.Name }}\nlib: {{ include "lib.name" . }}\nbase: {{ .Template.BasePath }}\n', '_h.tpl': '{{ define "x" }}{{ end }}', 'NOTES.txt': 'notes' },
      subcharts: [
        { chart: sub, as: 'dir' },
        { chart: lib, as: 'tgz' },
      ],
    });
    assert.deepEqual(Object.fromEntries(out), {
      'top/templates/a.yaml': 'app: 9\nrelease: NAME\nlib: lib-top\nbase: top/templates\n',
      'top/charts/two/templates/x.yaml': 'name: two\ntag: parent\nkeep: sub\nregistry: r.example\ntemplate: top/charts/two/templates/x.yaml\n',
      'top/charts/sub/templates/x.yaml': 'name: sub\ntag: own\nkeep: sub\nregistry: r.example\ntemplate: top/charts/sub/templates/x.yaml\n',
    });
  });

  it('an unknown function is an error naming the chart, the template and the line', async () => {
    await assert.rejects(
      render({ name: 'c', version: '1.0.0', templates: { 'a.yaml': 'a: 1\nb: {{ nosuchfunction 1 }}\n' } }),
      (err: Error) => /^chart c-1\.0\.0: c\/templates\/a\.yaml:2: .*nosuchfunction/.test(err.message),
    );
  });

  it('Capabilities.APIVersions.Has and Files.Get work from templates', async () => {
    const out = await render({
      name: 'c',
      version: '1.0.0',
      files: { 'files/img.txt': 'quay.io/a/b:1' },
      templates: { 'a.yaml': '{{ if .Capabilities.APIVersions.Has "batch/v1" }}image: {{ .Files.Get "files/img.txt" }}{{ end }}\n' },
    });
    assert.deepEqual(Object.fromEntries(out), { 'c/templates/a.yaml': 'image: quay.io/a/b:1\n' });
  });
});
