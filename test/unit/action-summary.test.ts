import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PLAN_PLACEHOLDER_DESTINATION } from '../../src/action/input-table.js';
import { cellText, escapeHtml, formatBytes, formatDuration } from '../../src/action/summary-html.js';
import { DEFAULT_SUMMARY_LIMITS, planDiff, renderPlanSummary, renderRunSummary, SUMMARY_LIMIT_BYTES } from '../../src/action/summary.js';
import type { ImageResult, RunReport } from '../../src/outputs/report.js';
import type { CopyTask, Plan } from '../../src/plan/types.js';

const d = (c: string): string => `sha256:${c.repeat(64)}`;
const CATALOG = 'registry.redhat.io/redhat/redhat-operator-index:v4.18';
const ALBO = { catalog: CATALOG, packages: ['aws-load-balancer-operator'], bundles: ['aws-load-balancer-operator.v1.2.0'] };

const MIXED: RunReport = {
  startedAt: '2026-01-01T10:00:00Z',
  finishedAt: '2026-01-01T10:04:05Z',
  workflow: 'mirrorToMirror',
  destination: 'docker://mirror.example.com:5000/ocp',
  images: [
    {
      task: {
        source: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${d('1')}`,
        destination: 'mirror.example.com:5000/ocp/openshift/release:4.18.1-x86_64-etcd',
        kind: 'ocpReleaseContent',
        origin: 'release',
        belongsTo: { release: '4.18.1-x86_64' },
      },
      status: 'mirrored',
      bytes: 123456789,
    },
    {
      task: {
        source: `registry.redhat.io/albo/aws-load-balancer-rhel8-operator@${d('4')}`,
        destination: 'mirror.example.com:5000/ocp/albo/aws-load-balancer-rhel8-operator:abc',
        kind: 'operatorRelatedImage',
        origin: 'operator',
        belongsTo: { operators: ALBO },
      },
      status: 'failed',
      error: 'copying blob sha256:ab: 500 <html>Internal | Server & Error</html>\n\nretry later',
    },
    {
      task: {
        source: `registry.redhat.io/albo/aws-load-balancer-operator-bundle@${d('3')}`,
        destination: 'mirror.example.com:5000/ocp/albo/aws-load-balancer-operator-bundle:def',
        kind: 'operatorBundle',
        origin: 'operator',
        belongsTo: { operators: ALBO },
      },
      status: 'skipped',
    },
    {
      task: { source: 'registry.redhat.io/ubi9/ubi:latest', destination: 'mirror.example.com:5000/ocp/ubi9/ubi:latest', kind: 'generic', origin: 'additional' },
      status: 'present',
      bytes: 0,
    },
    {
      task: {
        source: 'docker.io/bitnami/nginx:1.25.0',
        destination: 'mirror.example.com:5000/ocp/bitnami/nginx:1.25.0',
        kind: 'helmImage',
        origin: 'helm',
        belongsTo: { chart: 'nginx-15.0.0' },
      },
      status: 'mirrored',
      bytes: 45_000_000,
    },
  ],
};

const CLUSTER_RESOURCES = ['/ws/working-dir/cluster-resources/idms-oc-mirror.yaml', '/ws/working-dir/cluster-resources/itms-oc-mirror.yaml'];

const MIXED_SNAPSHOT = `<h2>oc-mirror mirror to mirror: <code>docker://mirror.example.com:5000/ocp</code></h2>

<p>❌ <strong>3 of 5</strong> images mirrored (2 copied, 1 already there, 1 failed, 1 skipped) · <strong>160.7 MiB</strong> transferred in <strong>4m 05s</strong> · 671.5 KiB/s</p>

<table>
<thead><tr><th></th><th>Origin</th><th>Mirrored</th><th>Copied</th><th>Already there</th><th>Failed</th><th>Skipped</th><th>Transferred</th></tr></thead>
<tbody>
<tr><td>✅</td><td>release</td><td>1 / 1</td><td>1</td><td>0</td><td>0</td><td>0</td><td>117.7 MiB</td></tr>
<tr><td>❌</td><td>operator</td><td>0 / 2</td><td>0</td><td>0</td><td>1</td><td>1</td><td>0 B</td></tr>
<tr><td>✅</td><td>additional</td><td>1 / 1</td><td>0</td><td>1</td><td>0</td><td>0</td><td>0 B</td></tr>
<tr><td>✅</td><td>helm</td><td>1 / 1</td><td>1</td><td>0</td><td>0</td><td>0</td><td>42.9 MiB</td></tr>
<tr><td>❌</td><td><strong>total</strong></td><td>3 / 5</td><td>2</td><td>1</td><td>1</td><td>1</td><td>160.7 MiB</td></tr>
</tbody>
</table>

<h3>Failures (2)</h3>

<table>
<thead><tr><th>Image</th><th>Reason</th><th>What it breaks</th></tr></thead>
<tbody>
<tr><td><code>registry.redhat.io/albo/aws-load-balancer-rhel8-operator@sha256:4444444444444444444444444444444444444444444444444444444444444444</code></td><td>copying blob sha256:ab: 500 &lt;html&gt;Internal | Server &amp; Error&lt;/html&gt; retry later</td><td>bundles <code>aws-load-balancer-operator.v1.2.0</code>; packages <code>aws-load-balancer-operator</code></td></tr>
<tr><td><code>registry.redhat.io/albo/aws-load-balancer-operator-bundle@sha256:3333333333333333333333333333333333333333333333333333333333333333</code></td><td>skipped: one of its related images failed to mirror</td><td>bundles <code>aws-load-balancer-operator.v1.2.0</code>; packages <code>aws-load-balancer-operator</code></td></tr>
</tbody>
</table>

<h3>Cluster resources (2)</h3>

<table>
<thead><tr><th>File</th></tr></thead>
<tbody>
<tr><td><code>/ws/working-dir/cluster-resources/idms-oc-mirror.yaml</code></td></tr>
<tr><td><code>/ws/working-dir/cluster-resources/itms-oc-mirror.yaml</code></td></tr>
</tbody>
</table>

<h3>Mirrored images (3)</h3>

<table>
<thead><tr><th>Image</th><th>Destination</th><th>Origin</th><th>Result</th><th>Transferred</th></tr></thead>
<tbody>
<tr><td><code>quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:1111111111111111111111111111111111111111111111111111111111111111</code></td><td><code>mirror.example.com:5000/ocp/openshift/release:4.18.1-x86_64-etcd</code></td><td>release</td><td>copied</td><td>117.7 MiB</td></tr>
<tr><td><code>registry.redhat.io/ubi9/ubi:latest</code></td><td><code>mirror.example.com:5000/ocp/ubi9/ubi:latest</code></td><td>additional</td><td>already there</td><td>—</td></tr>
<tr><td><code>docker.io/bitnami/nginx:1.25.0</code></td><td><code>mirror.example.com:5000/ocp/bitnami/nginx:1.25.0</code></td><td>helm</td><td>copied</td><td>42.9 MiB</td></tr>
</tbody>
</table>
`;

/** Each block must start with an HTML tag and hold no blank line, or GitHub would render Markdown inside it. */
function assertHtmlBlocks(summary: string): void {
  for (const block of summary.trimEnd().split('\n\n')) {
    assert.match(block, /^<(h[2-4]|p|table)>/, block.slice(0, 80));
    assert.ok(!/\n\s*\n/.test(block));
  }
}

function image(i: number, status: ImageResult['status'] = 'mirrored', error?: string): ImageResult {
  const task: CopyTask = {
    source: `quay.io/team/app-${i}@${d(((i % 9) + 1).toString())}`,
    destination: `mirror.example.com/team/app-${i}:v${i}`,
    kind: 'generic',
    origin: 'additional',
  };
  return { task, status, ...(status === 'mirrored' && { bytes: 1_000_000 + i }), ...(error !== undefined && { error }) };
}

function report(images: ImageResult[]): RunReport {
  return { ...MIXED, images };
}

const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');
const rowsOf = (summary: string, heading: string): number => {
  const start = summary.indexOf(heading);
  const table = summary.slice(start, summary.indexOf('</table>', start));
  return (table.match(/<tr><td>/g) ?? []).length;
};

const sectionBytes = (summary: string, heading: string): number => {
  const start = summary.indexOf(heading);
  return start < 0 ? 0 : byteLength(summary.slice(start, summary.indexOf('</table>', start)));
};

describe('renderRunSummary', () => {
  it('renders a mixed run: totals, origins, failures with what they break, cluster resources, images', () => {
    const summary = renderRunSummary(MIXED, { durationMs: 245_000, clusterResources: CLUSTER_RESOURCES, artifactName: 'oc-mirror-report' });
    assert.equal(summary, MIXED_SNAPSHOT);
    assertHtmlBlocks(summary);
  });

  it('lists archives with their sizes (pack)', () => {
    const summary = renderRunSummary(
      { ...MIXED, workflow: 'mirrorToDisk', destination: 'file:///archives' },
      { durationMs: 1500, archives: [{ path: '/archives/mirror_000001.tar', bytes: 1024 ** 3 }, { path: '/archives/mirror_000002.tar', bytes: 5000 }] },
    );
    assert.match(summary, /<h2>oc-mirror mirror to disk: <code>file:\/\/\/archives<\/code><\/h2>/);
    assert.ok(summary.includes('<h3>Archives (2, 1.0 GiB)</h3>'));
    assert.ok(summary.includes('<tr><td><code>/archives/mirror_000002.tar</code></td><td>4.9 KiB</td></tr>'));
    assert.ok(!summary.includes('Cluster resources'));
    assert.ok(summary.includes('transferred in <strong>1.5 s</strong> · 107.1 MiB/s'));
    assertHtmlBlocks(summary);
  });

  it('says so when there is nothing, and when no cluster resources were produced', () => {
    const summary = renderRunSummary(report([]), { durationMs: 20, clusterResources: [] });
    assert.ok(summary.includes('<p>No images to mirror; took 20 ms.</p>'));
    assert.ok(summary.includes('<p>None produced.</p>'));
    assertHtmlBlocks(summary);
  });

  it('escapes image names, destinations, error messages and unknown workflow names', () => {
    const evil: ImageResult = {
      task: { source: 'quay.io/a/b:1', destination: 'm.io/a|b:1', kind: 'generic', origin: 'additional', belongsTo: { chart: '<chart> & co' } },
      status: 'failed',
      error: '<script>alert("x")</script> | a & b\n\n# not a heading\n| not | a | table |',
    };
    const summary = renderRunSummary({ ...MIXED, workflow: '<b>odd</b>', destination: 'docker://r.io/<x>', images: [evil, image(1)] }, { durationMs: 1000 });
    assert.ok(!summary.includes('<script>') && !summary.includes('<b>odd') && !summary.includes('<x>') && !summary.includes('<chart>'));
    assert.ok(summary.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; | a &amp; b # not a heading | not | a | table |'));
    assert.ok(summary.includes('<code>&lt;chart&gt; &amp; co</code>'));
    assert.ok(summary.includes('&lt;b&gt;odd&lt;/b&gt;'));
    assertHtmlBlocks(summary);
  });

  it('cuts the images table to 300 rows and points to the artifact; 100k images stay under 1 MiB', () => {
    const images = Array.from({ length: 100_000 }, (_, i) => image(i));
    for (let i = 0; i < 2_000; i++) images.push(image(100_000 + i, 'failed', `manifest unknown: ${'x'.repeat(i % 50)}`));
    const summary = renderRunSummary(report(images), { durationMs: 3_600_000, artifactName: 'oc-mirror-report' });
    assert.ok(byteLength(summary) <= DEFAULT_SUMMARY_LIMITS.maxBytes);
    assert.ok(DEFAULT_SUMMARY_LIMITS.maxBytes < SUMMARY_LIMIT_BYTES);
    assert.equal(rowsOf(summary, '<h3>Mirrored images (100,000)</h3>'), 300);
    assert.ok(summary.includes('<em>… and 99,700 more (full list in the artifact <code>oc-mirror-report</code>)</em>'));
    assert.equal(rowsOf(summary, '<h3>Failures (2,000)</h3>'), 200);
    assert.ok(summary.includes('<em>… and 1,800 more (full list in the artifact'));
    assert.ok(summary.includes('<strong>100,000 of 102,000</strong>'));
    assertHtmlBlocks(summary);
  });

  it('stays under the limit with huge error messages, cutting cells and then rows', () => {
    const huge = `unexpected status 500: ${'<err>|&'.repeat(300_000)}`;
    const images = Array.from({ length: 100_000 }, (_, i) => image(i));
    for (let i = 0; i < 1_000; i++) images.push(image(200_000 + i, 'failed', huge));
    const summary = renderRunSummary(report(images), { durationMs: 60_000 });
    assert.ok(byteLength(summary) <= DEFAULT_SUMMARY_LIMITS.maxBytes, String(byteLength(summary)));
    const cell = /<td>(unexpected status 500: [^<]*)<\/td>/.exec(summary)![1]!;
    assert.ok(cell.endsWith('…'));
    assert.ok(cell.length < DEFAULT_SUMMARY_LIMITS.cellChars * 7);
    assert.ok(rowsOf(summary, '<h3>Failures (1,000)</h3>') > 10);
    assert.ok(summary.includes('(full list in working-dir/logs: report_*.json, mirroring_errors_*.txt)'));
    assertHtmlBlocks(summary);
  });

  it('keeps to a smaller budget too, failures served before images', () => {
    const images = Array.from({ length: 5_000 }, (_, i) => image(i));
    for (let i = 0; i < 500; i++) images.push(image(10_000 + i, 'failed', 'x'.repeat(400)));
    for (const maxBytes of [200_000, 40_000, 12_000]) {
      const summary = renderRunSummary(report(images), { durationMs: 1 }, { maxBytes });
      assert.ok(byteLength(summary) <= maxBytes, `${maxBytes}: ${byteLength(summary)}`);
      assert.ok(rowsOf(summary, '<h3>Failures') > 5);
      assert.ok(sectionBytes(summary, '<h3>Failures') > sectionBytes(summary, '<h3>Mirrored images'));
      assertHtmlBlocks(summary);
    }
  });

  it('cuts long lists of archives and cluster resources', () => {
    const archives = Array.from({ length: 10_000 }, (_, i) => ({ path: `/a/mirror_${String(i).padStart(6, '0')}.tar`, bytes: 1e9 }));
    const summary = renderRunSummary(report([image(1)]), { durationMs: 1, archives, clusterResources: archives.map((a) => a.path) });
    assert.equal(rowsOf(summary, '<h3>Archives'), DEFAULT_SUMMARY_LIMITS.listRows);
    assert.ok(summary.includes(`<em>… and ${(10_000 - DEFAULT_SUMMARY_LIMITS.listRows).toLocaleString('en-US')} more</em>`));
    assert.ok(byteLength(summary) <= DEFAULT_SUMMARY_LIMITS.maxBytes);
  });
});

describe('renderPlanSummary', () => {
  const plan: Plan = { destination: 'docker://mirror.example.com', tasks: MIXED.images.map((i) => i.task) };
  const gone: CopyTask = { source: 'quay.io/old/gone:1', destination: 'mirror.example.com/old/gone:1', kind: 'generic', origin: 'additional' };
  const sizes = new Map([
    [plan.tasks[0]!.source, 123456789],
    ['docker.io/bitnami/nginx:1.25.0', 45_000_000],
  ]);

  it('groups by origin and by release, operator package, chart, with sizes where known', () => {
    const summary = renderPlanSummary(plan, undefined, sizes);
    assert.ok(summary.startsWith('<h2>oc-mirror plan: 5 images to <code>docker://mirror.example.com</code></h2>'));
    assert.ok(summary.includes('Known size: <strong>≥ 160.7 MiB</strong> (3 images of unknown size not counted)'));
    assert.ok(summary.includes('<tr><td>release</td><td>1</td><td>117.7 MiB</td></tr>'));
    assert.ok(summary.includes('<tr><td>operator</td><td>2</td><td>—</td></tr>'));
    assert.ok(
      summary.includes(
        `<tr><td>operator</td><td>package <code>aws-load-balancer-operator</code> from <code>${CATALOG}</code>: bundles <code>aws-load-balancer-operator.v1.2.0</code></td><td>2</td><td>—</td></tr>`,
      ),
    );
    assert.ok(summary.includes('<tr><td>release</td><td>release <code>4.18.1-x86_64</code></td><td>1</td><td>117.7 MiB</td></tr>'));
    assert.ok(summary.includes('<tr><td>helm</td><td>chart <code>nginx-15.0.0</code></td><td>1</td><td>42.9 MiB</td></tr>'));
    assert.ok(summary.includes('<tr><td>additional</td><td>additional images</td><td>1</td><td>—</td></tr>'));
    assert.ok(summary.includes('No earlier plan of this configuration to compare with.'));
    assertHtmlBlocks(summary);
  });

  it('shows what was added and removed since the previous plan', () => {
    const previous: Plan = { destination: plan.destination, tasks: [plan.tasks[0]!, gone] };
    const summary = renderPlanSummary(plan, previous, sizes);
    assert.ok(summary.includes('<p>4 added, 1 removed, 1 unchanged.</p>'));
    assert.ok(summary.includes('<h4>Added (4)</h4>'));
    assert.ok(summary.includes('<h4>Removed (1)</h4>'));
    assert.ok(summary.includes('<tr><td><code>quay.io/old/gone:1</code></td><td>additional</td><td>—</td></tr>'));
    assert.ok(renderPlanSummary(plan, plan).includes('<p>None: the same 5 images.</p>'));
    assertHtmlBlocks(summary);
  });

  it('compares images by source, whatever their destination', () => {
    const moved: Plan = { destination: 'docker://other', tasks: plan.tasks.map((t) => ({ ...t, destination: `other/${t.destination}` })) };
    const diff = planDiff(plan, moved);
    assert.deepEqual([diff.added.length, diff.removed.length, diff.unchanged], [0, 0, 5]);
  });

  it('says when the plan has no destination', () => {
    const summary = renderPlanSummary({ ...plan, destination: PLAN_PLACEHOLDER_DESTINATION });
    assert.ok(summary.startsWith('<h2>oc-mirror plan: 5 images (no destination given)</h2>'));
    assert.ok(summary.includes('Known size: <strong>—</strong>'));
  });

  it('stays under 1 MiB for 100k images and a large diff', () => {
    const tasks = Array.from({ length: 100_000 }, (_, i) => image(i).task);
    const previous = { destination: plan.destination, tasks: Array.from({ length: 50_000 }, (_, i) => image(i + 75_000).task) };
    const summary = renderPlanSummary({ destination: plan.destination, tasks }, previous);
    assert.ok(byteLength(summary) <= DEFAULT_SUMMARY_LIMITS.maxBytes);
    assert.ok(summary.includes('<p>75,000 added, 25,000 removed, 25,000 unchanged.</p>'));
    assert.equal(rowsOf(summary, '<h3>Images (100,000)</h3>'), 300);
    assert.ok(summary.includes('… and 99,700 more (full list in mapping.txt)'));
    assertHtmlBlocks(summary);
  });
});

describe('summary building blocks', () => {
  it('escapes HTML', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('flattens and cuts cell text without splitting a character', () => {
    assert.equal(cellText('a\n\n  b\tc\u0007', 100), 'a b c');
    assert.equal(cellText('abcdef', 3), 'abc…');
    assert.equal(cellText('ab😀cd', 3), 'ab…');
    assert.equal(cellText(`${'x'.repeat(10)}${'y'.repeat(1_000_000)}`, 10), `${'x'.repeat(10)}…`);
  });

  it('formats bytes and durations', () => {
    assert.deepEqual([0, 1023, 1024, 1536, 5 * 1024 ** 3].map(formatBytes), ['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '5.0 GiB']);
    assert.deepEqual([850, 12_345, 245_000, 3_723_000].map(formatDuration), ['850 ms', '12.3 s', '4m 05s', '1h 02m 03s']);
  });
});
