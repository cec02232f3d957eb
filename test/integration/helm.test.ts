/**
 * Helm charts mirrored as a user would: charts from a chart repository served on loopback, from a
 * registry (oci://) and from local directories and archives; their images pushed to a real
 * registry; the CLI run in every workflow; what arrived checked with skopeo.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packChart, pushOciChart, startHelmRepo, writeChartDir, type ChartSpec, type HelmRepo } from '../support/helm-repo.js';
import { pushImage } from '../support/images.js';
import { startRegistry, writeAuthFile, type TestRegistry } from '../support/registry.js';
import { assertSameImage, listTags } from '../support/skopeo.js';
import { integrationSuite } from '../support/tools.js';
import { diskBox, runD2M, runM2D, tarList } from './disk-helpers.js';
import { catalog, describeRun, ocMirror, sandbox, writeIsc, type Sandbox } from './m2m-helpers.js';

const INSECURE = ['--src-tls-verify=false', '--dest-tls-verify=false'];
const OPERAND_PATH = `{.spec.template.spec.containers[*].env[?(@.name=="OPERAND_IMAGE")].value}`;

const deployment = (name: string, image: string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  template:
    spec:
      containers:
      - name: ${name}
        image: ${image}
${extra}`;

/** The charts of the repository: two releases and a pre-release of `web`, `stack` with sub-charts, a library. */
function repositoryCharts(registry: string): ChartSpec[] {
  const web = (version: string, appVersion: string): ChartSpec => ({
    name: 'web',
    version,
    appVersion,
    values: `image:\n  repository: ${registry}/team/web\n  tag: ""\n`,
    templates: { 'deployment.yaml': deployment('web', '"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"') },
  });
  const common: ChartSpec = {
    name: 'common',
    version: '0.1.0',
    type: 'library',
    templates: { '_image.tpl': '{{- define "common.image" -}}\n{{ .registry }}/team/{{ .name }}:{{ .tag }}\n{{- end -}}\n' },
  };
  const db: ChartSpec = {
    name: 'db',
    version: '15.0.0',
    values: 'image:\n  tag: "15"\n',
    templates: {
      'statefulset.yaml': `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .Chart.Name }}
spec:
  template:
    spec:
      containers:
      - name: db
        image: {{ include "common.image" (dict "registry" .Values.global.registry "name" "db" "tag" .Values.image.tag) }}
`,
    },
  };
  const cache: ChartSpec = {
    name: 'cache',
    version: '1.0.0',
    templates: { 'deployment.yaml': deployment('cache', '{{ .Values.global.registry }}/team/cache:1') },
  };
  const stack: ChartSpec = {
    name: 'stack',
    version: '1.0.0',
    appVersion: '3.0',
    dependencies: [
      { name: 'db', version: '~15.0', alias: 'primary' },
      { name: 'db', version: '~15.0', alias: 'replica', condition: 'replica.enabled' },
      { name: 'cache', version: '1.0.0', condition: 'cache.enabled' },
      { name: 'common', version: '0.1.0' },
    ],
    values: `global:
  registry: ${registry}
primary:
  image:
    tag: 15-primary
replica:
  enabled: true
  image:
    tag: 15-replica
cache:
  enabled: false
`,
    templates: {
      'operator.yaml': deployment(
        'operator',
        '{{ include "common.image" (dict "registry" .Values.global.registry "name" "stack" "tag" .Chart.AppVersion) }}',
        `        env:
        - name: OPERAND_IMAGE
          value: {{ .Values.global.registry }}/team/operand:2.0
        - name: LOG_LEVEL
          value: debug
`,
      ),
      'backup.yaml': `apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: backup
            image: {{ printf "%s/team/backup:%d" .Values.global.registry 1 }}
`,
      'NOTES.txt': 'Thanks for installing {{ .Chart.Name }}.\n',
    },
    subcharts: [
      { chart: db, as: 'dir' },
      { chart: cache, as: 'tgz' },
      { chart: common, as: 'tgz' },
    ],
  };
  return [web('1.0.0', '1.0.0'), web('1.1.0', '1.1.0'), web('2.0.0-rc.1', '2.0.0-rc.1'), stack, common];
}

/** Repositories and tags under `prefix` at a registry, as `repo:tag` strings. */
async function mirroredUnder(reg: TestRegistry, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for (const repo of await catalog(reg)) {
    if (!repo.startsWith(`${prefix}/`)) continue;
    for (const tag of await listTags(`${reg.host}/${repo}`, reg)) out.push(`${repo.slice(prefix.length + 1)}:${tag}`);
  }
  return out.sort();
}

describe('helm charts', integrationSuite(), () => {
  let src: TestRegistry;
  let dest: TestRegistry;
  let repo: HelmRepo;
  let box: Sandbox;
  let agentDigest: string;
  let toolsDir: string;
  let agentTgz: string;

  before(async () => {
    [src, dest] = await Promise.all([startRegistry(), startRegistry()]);
    box = sandbox();
    const layer = { layers: [{ size: 300 }] };
    const images = [
      ['team/web', '1.0.0'],
      ['team/web', '1.1.0'],
      ['team/stack', '3.0'],
      ['team/operand', '2.0'],
      ['team/backup', '1'],
      ['team/db', '15-primary'],
      ['team/db', '15-replica'],
      ['team/init', '1'],
      ['team/tool', 'latest'],
      ['team/oci-app', '1'],
    ];
    for (const [r, t] of images) await pushImage(src, r!, t!, layer);
    agentDigest = (await pushImage(src, 'team/agent', 'v1', layer)).digest;

    repo = await startHelmRepo(repositoryCharts(src.host));
    toolsDir = writeChartDir(join(box.dir, 'tools'), {
      name: 'tools',
      version: '0.1.0',
      templates: {
        'pod.yaml': `apiVersion: v1\nkind: Pod\nspec:\n  initContainers:\n  - image: ${src.host}/team/init:1\n  containers:\n  - image: ${src.host}/team/tool\n`,
      },
    });
    agentTgz = join(box.dir, 'agent-0.2.0.tgz');
    writeFileSync(
      agentTgz,
      packChart({
        name: 'agent',
        version: '0.2.0',
        templates: { 'ds.yaml': `apiVersion: apps/v1\nkind: DaemonSet\nspec:\n  template:\n    spec:\n      containers:\n      - image: ${src.host}/team/agent@${agentDigest}\n` },
      }),
    );
    await pushOciChart(src, 'helmcharts', {
      name: 'ocichart',
      version: '1.0.0',
      templates: { 'deployment.yaml': deployment('oci', `${src.host}/team/oci-app:1`) },
    });
  });
  after(async () => {
    await Promise.all([src?.stop(), dest?.stop(), repo?.stop()]);
  });

  const isc = (name: string, local: { tools: string; agent: string } = { tools: toolsDir, agent: agentTgz }) =>
    writeIsc(
      box,
      name,
      `mirror:
  helm:
    repositories:
    - name: team
      url: ${repo.url}
      charts:
      - name: web
        version: "~1.0"
      - name: web
      - name: stack
        version: 1.0.0
        imagePaths:
        - '${OPERAND_PATH}'
    - name: oci
      url: oci://${src.host}/helmcharts
      charts:
      - name: ocichart
        version: 1.0.0
    local:
    - name: tools
      path: ${local.tools}
    - name: agent
      path: ${local.agent}
`,
    );

  const expected = () =>
    [
      'team/web:1.0.0',
      'team/web:1.1.0',
      'team/stack:3.0',
      'team/operand:2.0',
      'team/backup:1',
      'team/db:15-primary',
      'team/db:15-replica',
      'team/init:1',
      'team/tool:latest',
      `team/agent:${agentDigest.replace(':', '-')}`,
      'team/oci-app:1',
      'helmcharts/ocichart:1.0.0',
    ].sort();

  test('mirror to mirror: the images of repository, registry and local charts, aliased sub-charts included, disabled ones left out', async () => {
    const r = await ocMirror(box, ['-c', isc('m2m.yaml'), '--workspace', `file://${box.dir}/ws`, `docker://${dest.host}/m2m`, ...INSECURE]);
    assert.equal(r.code, 0, describeRun(r));
    assert.deepEqual(await mirroredUnder(dest, 'm2m'), expected());
    await assertSameImage(`${src.host}/team/db:15-replica`, `${dest.host}/m2m/team/db:15-replica`, { src, dest });
    await assertSameImage(`${src.host}/helmcharts/ocichart:1.0.0`, `${dest.host}/m2m/helmcharts/ocichart:1.0.0`, { src, dest });
    const ws = join(box.dir, 'ws', 'working-dir', 'helm');
    assert.deepEqual(readdirSync(join(ws, 'charts')).sort(), ['stack-1.0.0.tgz', 'web-1.0.0.tgz', 'web-1.1.0.tgz']);
    assert.deepEqual(readFileSync(join(ws, 'charts', 'web-1.1.0.tgz')), repo.archive('web', '1.1.0'));
  });

  test('mirror to disk, then disk to mirror from the archives alone (no chart repository, no local chart paths)', async (t) => {
    const disk = diskBox(t);
    const m2d = await runM2D(disk, isc('m2d.yaml'), disk.out, disk.cache);
    assert.equal(m2d.code, 0, describeRun(m2d));
    const entries = await tarList(join(disk.out, 'mirror_000001.tar'));
    const helmEntries = entries.filter((e) => e.startsWith('working-dir/helm/')).sort();
    assert.deepEqual(helmEntries, [
      'working-dir/helm/charts/stack-1.0.0.tgz',
      'working-dir/helm/charts/web-1.0.0.tgz',
      'working-dir/helm/charts/web-1.1.0.tgz',
      `working-dir/helm/indexes/${repo.host}/charts/index.yaml`,
      'working-dir/helm/local/agent.tgz',
      'working-dir/helm/local/tools.tgz',
    ]);

    // The far side: only the archive, a fresh cache and working-dir, and local paths that do not exist.
    const far = join(disk.dir, 'far');
    mkdirSync(far);
    copyFileSync(join(disk.out, 'mirror_000001.tar'), join(far, 'mirror_000001.tar'));
    const before = repo.requests.length;
    const farIsc = isc('d2m.yaml', { tools: '/nonexistent/tools', agent: '/nonexistent/agent.tgz' });
    const d2m = await runD2M(disk, farIsc, far, `${dest.host}/d2m`, join(disk.dir, 'far-cache'));
    assert.equal(d2m.code, 0, describeRun(d2m));
    assert.equal(repo.requests.length, before, 'disk to mirror asked the chart repository nothing');
    assert.deepEqual(await mirroredUnder(dest, 'd2m'), expected());
    await assertSameImage(`${src.host}/team/agent@${agentDigest}`, `${dest.host}/d2m/team/agent:${agentDigest.replace(':', '-')}`, { src, dest });

    // A chart the archives do not hold is named, and nothing is pushed.
    const missing = writeIsc(disk, 'missing.yaml', `mirror:\n  helm:\n    repositories:\n    - name: team\n      url: ${repo.url}\n      charts:\n      - name: web\n        version: 2.0.0-rc.1\n`);
    const r = await runD2M(disk, missing, far, `${dest.host}/missing`, join(disk.dir, 'far-cache'));
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, /missing\.yaml mirror\.helm\.repositories\[0\]\.charts\[0\]: chart web-2\.0\.0-rc\.1 of helm repository team is not in the archives \(working-dir\/helm\/charts\/web-2\.0\.0-rc\.1\.tgz\)/);
    assert.deepEqual(await mirroredUnder(dest, 'missing'), []);
  });

  test('a repository without charts: every version of every non-library chart (dry run)', async () => {
    const all = writeIsc(box, 'all.yaml', `mirror:\n  helm:\n    repositories:\n    - name: team\n      url: ${repo.url}\n`);
    const r = await ocMirror(box, ['-c', all, '--workspace', `file://${box.dir}/ws-all`, `docker://${dest.host}/all`, '--dry-run', ...INSECURE]);
    assert.equal(r.code, 0, describeRun(r));
    const mapping = readFileSync(join(box.dir, 'ws-all', 'working-dir', 'dry-run', 'mapping.txt'), 'utf8');
    const sources = mapping.trim().split('\n').map((l) => l.split('=')[0]!.replace(`docker://${src.host}/`, '')).sort();
    // stack without its custom imagePaths: no operand image.
    assert.deepEqual(sources, ['team/backup:1', 'team/db:15-primary', 'team/db:15-replica', 'team/stack:3.0', 'team/web:1.0.0', 'team/web:1.1.0', 'team/web:2.0.0-rc.1']);
  });

  test('a template error fails the run before copying, in one line naming the chart, the template and the line', async () => {
    const dir = writeChartDir(join(box.dir, 'broken'), {
      name: 'broken',
      version: '0.1.0',
      templates: { 'a.yaml': deployment('ok', `${src.host}/team/init:1`), 'b.yaml': 'kind: ConfigMap\ndata:\n  x: {{ .Values.x | nosuchfunction }}\n' },
    });
    const bad = writeIsc(box, 'broken.yaml', `mirror:\n  additionalImages:\n  - name: ${src.host}/team/init:1\n  helm:\n    local:\n    - name: broken\n      path: ${dir}\n`);
    const r = await ocMirror(box, ['-c', bad, '--workspace', `file://${box.dir}/ws-broken`, `docker://${dest.host}/broken`, ...INSECURE]);
    assert.equal(r.code, 1, describeRun(r));
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /broken\.yaml mirror\.helm\.local\[0\]: chart broken-0\.1\.0: broken\/templates\/b\.yaml:3: .*nosuchfunction/);
    assert.deepEqual(await mirroredUnder(dest, 'broken'), []);
  });

  test('a repository behind Basic auth: credentials from the authfile for its host', async (t) => {
    const users = { username: 'charts', password: 'pw-helm-9f3' };
    const guarded = await startHelmRepo([repositoryCharts(src.host)[0]!], { auth: users, prefix: 'private', absoluteUrls: true });
    t.after(() => guarded.stop());
    const authfile = join(box.dir, 'helm-auth.json');
    writeAuthFile(authfile, guarded.host, users);
    const file = writeIsc(box, 'auth.yaml', `mirror:\n  helm:\n    repositories:\n    - name: private\n      url: ${guarded.url}\n      charts:\n      - name: web\n`);
    const args = ['-c', file, '--workspace', `file://${box.dir}/ws-auth`, `docker://${dest.host}/auth`, '--dry-run', ...INSECURE];
    const denied = await ocMirror(box, args);
    assert.equal(denied.code, 1, describeRun(denied));
    assert.match(denied.stderr, /auth\.yaml mirror\.helm\.repositories\[0\]: helm repository private: invalid chart repository ".*": GET .*index\.yaml: HTTP 401/);
    const r = await ocMirror(box, [...args, '--authfile', authfile]);
    assert.equal(r.code, 0, describeRun(r));
    assert.ok(!`${r.stdout}${r.stderr}`.includes(users.password), 'the password is never printed');
    assert.match(readFileSync(join(box.dir, 'ws-auth', 'working-dir', 'dry-run', 'mapping.txt'), 'utf8'), /team\/web:1\.0\.0/);
  });
});
