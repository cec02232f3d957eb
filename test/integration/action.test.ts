/**
 * The actions run as the runner runs them (test/support/action-runner.ts): a child process per
 * step, INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, against a real registry
 * (docker-registry with htpasswd, credentials given as inputs) and the loopback Actions services
 * driving the real @actions/cache and @actions/artifact clients.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runActionEntry, type ActionEntry, type ActionRun } from '../support/action-runner.js';
import { startActionsServices, type ActionsServices } from '../support/actions-services.js';
import { pushImage, type PushedImage } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { integrationSuite } from '../support/tools.js';
import { exists } from './m2m-helpers.js';

let reg: TestRegistry;
let services: ActionsServices;
let images: PushedImage[];
let workspace: string;
/** every step run, for the secret scan at the end */
const runs: ActionRun[] = [];

function isc(name: string, refs: string[]): string {
  const body = refs.map((r) => `  - name: ${r}\n`).join('');
  writeFileSync(join(workspace, name), `kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\nmirror:\n  additionalImages:\n${body}`);
  return name;
}

function common(): Record<string, string> {
  return {
    'src-tls-verify': 'false',
    'dest-tls-verify': 'false',
    registry: reg.host,
    username: reg.username!,
    password: reg.password!,
  };
}

async function step(action: ActionEntry, inputs: Record<string, string>, env: Record<string, string> = services.env): Promise<ActionRun> {
  const run = await runActionEntry(action, { ...common(), ...inputs }, { env });
  runs.push(run);
  return run;
}

function describeRun(r: ActionRun): string {
  return `exit ${r.code}\n--- errors\n${r.errors.join('\n')}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

const VOID = new Set(['br', 'hr', 'img']);

/** The summary is HTML blocks: every tag closed in order, within GitHub's 1 MiB. */
function assertSummary(html: string): void {
  assert.ok(Buffer.byteLength(html) < 1024 * 1024);
  const stack: string[] = [];
  for (const m of html.matchAll(/<(\/?)([a-z0-9]+)[^>]*>/g)) {
    const [, closing, tag] = m;
    if (VOID.has(tag!)) continue;
    if (!closing) stack.push(tag!);
    else assert.equal(stack.pop(), tag, `unbalanced </${tag}> in\n${html}`);
  }
  assert.deepEqual(stack, [], `unclosed tags in\n${html}`);
  assert.ok(!/\n\n\n/.test(html.replace(/\n\n(<h[23]|<p|<table)/g, '')));
}

describe('actions, as the runner runs them', integrationSuite(), () => {
  before(async () => {
    [reg, services] = await Promise.all([startRegistry({ auth: 'htpasswd' }), startActionsServices()]);
    workspace = services.env.GITHUB_WORKSPACE!;
    images = [
      await pushImage(reg, 'alpha/a', 'v1', { layers: [{ size: 30_000 }] }),
      await pushImage(reg, 'beta/b', 'v1', { layers: [{ size: 60_000 }, { size: 5_000 }] }),
      await pushImage(reg, 'gamma/c', 'v1', {
        platforms: [
          { os: 'linux', architecture: 'amd64' },
          { os: 'linux', architecture: 'arm64' },
        ],
        layers: [{ size: 20_000 }],
      }),
    ];
  });

  after(async () => {
    await Promise.all([reg?.stop(), services?.stop()]);
  });

  test('plan: mapping, a matrix of byte-balanced shards, and the changes since the last plan of the config', async () => {
    const [a, b, c] = images as [PushedImage, PushedImage, PushedImage];
    const first = await step('plan', { config: isc('plan.yaml', [a.reference, b.reference]), shards: '2', destination: `${reg.host}/planned` });
    assert.equal(first.code, 0, describeRun(first));
    assert.equal(first.outputs.images, '2');
    assert.equal(first.outputs.matrix, '{"include":[{"shard":"1/2"},{"shard":"2/2"}]}');
    assert.equal(first.outputs.mapping, join(workspace, 'oc-mirror-workspace/working-dir/dry-run/mapping.txt'));
    assert.deepEqual(readFileSync(first.outputs.mapping!, 'utf8').trim().split('\n').sort(), [
      `docker://${a.reference}=docker://${reg.host}/planned/alpha/a:v1`,
      `docker://${b.reference}=docker://${reg.host}/planned/beta/b:v1`,
    ]);
    assertSummary(first.summary);
    assert.match(first.summary, /<h2>oc-mirror plan: 2 images to <code>/);
    assert.match(first.summary, /No earlier plan of this configuration/);
    // Sizes come from the manifests: each image's size is listed, so the two shards hold one image each.
    assert.equal((first.summary.match(/<td>\d+\.\d KiB<\/td><\/tr>/g) ?? []).length >= 2, true);
    assert.ok(services.artifacts.list().some((x) => x.name === 'oc-mirror-plan'));
    assert.ok(services.cache.entries().some((e) => e.key.startsWith('oc-mirror-plan-')));

    // The same file with b swapped for c, in a later pull request run: compared with the first plan.
    const pr = { ...services.runEnv({ runId: services.runId + 1, ref: 'refs/pull/7/merge' }), GITHUB_EVENT_NAME: 'pull_request' };
    const entries = services.cache.entries().length;
    const second = await step('plan', { config: isc('plan.yaml', [a.reference, c.reference]) }, pr);
    assert.equal(second.code, 0, describeRun(second));
    assert.equal(second.outputs.matrix, '{"include":[{"shard":"1/1"}]}');
    assertSummary(second.summary);
    assert.match(second.summary, /1 added, 1 removed, 1 unchanged/);
    assert.match(second.summary, /\(no destination given\)/);
    const added = second.summary.slice(second.summary.indexOf('Added'), second.summary.indexOf('Removed'));
    assert.ok(added.includes(c.reference) && !added.includes(b.reference), added);
    // A pull request run does not become the baseline.
    assert.equal(services.cache.entries().length, entries);
  });

  test('mirror: two shards and a merge step put every image at the destination with one set of cluster resources', async () => {
    const config = isc('mirror.yaml', images.map((i) => i.reference));
    const dest = `${reg.host}/sharded`;
    const plan = await step('plan', { config, shards: '2', 'plan-artifact': 'mirror-plan', destination: dest });
    assert.equal(plan.code, 0, describeRun(plan));
    const shards = [];
    for (const shard of ['1/2', '2/2']) {
      const run = await step('mirror', { config, shard, 'plan-artifact': 'mirror-plan', destination: dest, workspace: `ws-${shard[0]}` });
      assert.equal(run.code, 0, describeRun(run));
      shards.push(run);
    }
    const counts = shards.map((s) => Number(s.outputs.images));
    assert.deepEqual([...counts].sort(), [1, 2], 'three images, cut by bytes into 1 + 2');
    assert.ok(services.artifacts.list().some((x) => x.name === 'mirror-plan-shard-1-of-2'));

    const merge = await step('mirror', { config, 'merge-shards': 'true', 'plan-artifact': 'mirror-plan', destination: dest, workspace: 'ws-merged' });
    assert.equal(merge.code, 0, describeRun(merge));
    assert.equal(merge.outputs.images, '3');
    assert.equal(merge.outputs.failed, '0');
    const resources = merge.outputs['cluster-resources']!;
    assert.equal(resources, join(workspace, 'ws-merged/working-dir/cluster-resources'));
    // Each shard's ITMS covers its own namespaces; the merged one covers all three.
    const itms = readFileSync(join(resources, 'itms-oc-mirror.yaml'), 'utf8');
    for (const ns of ['alpha', 'beta', 'gamma']) assert.ok(itms.includes(`- ${dest}/${ns}\n    source: ${reg.host}/${ns}\n`), itms);
    assert.ok(shards.every((s) => !['alpha', 'beta', 'gamma'].every((ns) => readFileSync(join(s.outputs['cluster-resources']!, 'itms-oc-mirror.yaml'), 'utf8').includes(`${dest}/${ns}`))));
    assertSummary(merge.summary);
    assert.match(merge.summary, /<strong>3 of 3<\/strong> images mirrored/);
    for (const i of images) assert.ok(await exists(`${dest}/${i.repo}:v1`, reg), `${i.repo} mirrored`);
  });

  test('pack → push: archives as artifacts, the store kept in the cache, push from this run, another run and a directory', async () => {
    const config = isc('pack.yaml', images.slice(0, 2).map((i) => i.reference));
    const pack = await step('pack', { config, path: 'out', 'cache-dir': 'cache-1', 'archive-size': '1' });
    assert.equal(pack.code, 0, describeRun(pack));
    const archives = JSON.parse(pack.outputs.archives!) as string[];
    assert.deepEqual(archives, [join(workspace, 'out/mirror_000001.tar')]);
    assert.equal(pack.outputs['artifact-name'], 'oc-mirror-archive');
    assert.equal(pack.outputs.bytes, String(readFileSync(archives[0]!).length));
    assert.deepEqual(await services.artifacts.read('oc-mirror-archive-mirror_000001.tar'), readFileSync(archives[0]!));
    assertSummary(pack.summary);
    assert.match(pack.summary, /Archives \(1, /);
    const packs = services.cache.entries().filter((e) => e.key.startsWith('oc-mirror-pack-'));
    assert.equal(packs.length, 1);
    assert.equal(services.cache.entries().filter((e) => e.key.startsWith('oc-mirror-index-')).length, 1);

    // The next nightly run on a fresh runner: the store comes back from the cache, the packs are not saved again.
    const nextRun = services.runEnv({ runId: services.runId + 2 });
    const again = await step('pack', { config, path: 'out-2', 'cache-dir': 'cache-2' }, nextRun);
    assert.equal(again.code, 0, describeRun(again));
    assert.match(again.stdout, /store cache: index oc-mirror-index-[0-9a-f]+-\d+-1, 1 pack\(s\) restored, \d+ blobs/);
    assert.match(again.stdout, /store cache: 1 pack\(s\), index unchanged/);
    assert.equal(services.cache.entries().filter((e) => e.key.startsWith('oc-mirror-pack-')).length, 1);

    // push: this run's artifact
    const pushed = await step('push', { config, destination: `${reg.host}/from-artifact` });
    assert.equal(pushed.code, 0, describeRun(pushed));
    assert.equal(pushed.outputs.images, '2');
    assert.equal(pushed.outputs.failed, '0');
    assert.ok(existsSync(join(pushed.outputs['cluster-resources']!, 'itms-oc-mirror.yaml')));
    assertSummary(pushed.summary);
    // push: the artifact of another run (the nightly pack), with its run id and a token
    const laterRun = services.runEnv({ runId: services.runId + 3 });
    const other = await step('push', { config, destination: `${reg.host}/from-run`, 'run-id': String(services.runId), 'github-token': services.githubToken }, laterRun);
    assert.equal(other.code, 0, describeRun(other));
    // push: a directory on a self-hosted runner
    const fromDir = await step('push', { config, from: 'out', destination: `${reg.host}/from-dir` });
    assert.equal(fromDir.code, 0, describeRun(fromDir));
    for (const prefix of ['from-artifact', 'from-run', 'from-dir']) {
      for (const i of images.slice(0, 2)) assert.ok(await exists(`${reg.host}/${prefix}/${i.repo}:v1`, reg), `${prefix}/${i.repo}`);
    }
    // nothing to push under another name
    const none = await step('push', { config, destination: `${reg.host}/none`, 'artifact-name': 'no-such' });
    assert.equal(none.code, 1);
    assert.deepEqual(none.errors, ['input "artifact-name": no artifacts "no-such-mirror_NNNNNN.tar" in this workflow run']);
  });

  test('delete: generate the list from the pack\'s workspace and cache, then delete what it names', async () => {
    const body = images.slice(0, 2).map((i) => `  - name: ${i.reference}\n`).join('');
    writeFileSync(join(workspace, 'delete.yaml'), `kind: DeleteImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\ndelete:\n  additionalImages:\n${body}`);
    const dest = `${reg.host}/from-dir`;
    const generate = await step('delete', { config: 'delete.yaml', generate: 'true', workspace: 'out', 'cache-dir': 'cache-1', destination: dest });
    assert.equal(generate.code, 0, describeRun(generate));
    assert.equal(generate.outputs.images, '2');
    assert.equal(generate.outputs['delete-yaml-file'], join(workspace, 'out/working-dir/delete/delete-images.yaml'));
    assertSummary(generate.summary);
    for (const i of images.slice(0, 2)) assert.ok(await exists(`${dest}/${i.repo}:v1`, reg), 'generate deletes nothing');

    const apply = await step('delete', { 'delete-yaml-file': generate.outputs['delete-yaml-file']!, destination: dest });
    assert.equal(apply.code, 0, describeRun(apply));
    assertSummary(apply.summary);
    assert.match(apply.summary, /✅ 2 manifests deleted/);
    for (const i of images.slice(0, 2)) assert.equal(await exists(`${dest}/${i.repo}:v1`, reg), false, `${i.repo} deleted`);
  });

  test('pack: a cache that refuses to save (quota reached, then 429) costs a warning, never the pack', async () => {
    const config = isc('refused.yaml', [images[2]!.reference]);
    services.faults.quotaReached = true;
    try {
      const run = await step('pack', { config, path: 'out-q', 'cache-dir': 'cache-q', 'artifact-name': 'quota' }, services.runEnv({ runId: services.runId + 4 }));
      assert.equal(run.code, 0, describeRun(run));
      assert.ok(run.warnings.some((w) => w.includes('store cache: the Actions cache refused to save 1 of 1 store pack(s)')), run.warnings.join('\n'));
      assert.equal(JSON.parse(run.outputs.archives!).length, 1);
    } finally {
      services.faults.quotaReached = false;
    }
    services.faults.rateLimitNext = 1;
    services.faults.rateLimitOnly = 'CreateCacheEntry';
    try {
      const run = await step('pack', { config, path: 'out-r', 'cache-dir': 'cache-r', 'artifact-name': 'limited' }, services.runEnv({ runId: services.runId + 5 }));
      assert.equal(run.code, 0, describeRun(run));
      assert.ok(run.warnings.some((w) => w.includes('refused to save 1 of 1')), run.warnings.join('\n'));
      assert.ok(run.warnings.some((w) => w.startsWith("You've hit a rate limit")), run.warnings.join('\n'));
    } finally {
      services.faults.rateLimitOnly = undefined;
      services.faults.rateLimitNext = 0;
    }
  });

  test('failures: one line naming the input; the authfile is gone after a failed run; the root action', async () => {
    const config = isc('bad.yaml', [images[0]!.reference]);
    const bad = await step('mirror', { config, destination: `${reg.host}/x`, 'parallel-images': '11' });
    assert.equal(bad.code, 1);
    assert.equal(bad.errors.length, 1);
    assert.match(bad.errors[0]!, /^input "parallel-images": /);

    const unreachable = await step('mirror', { config, destination: '127.0.0.1:1/x', 'retry-times': '0' });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.errors.at(-1)!, /127\.0\.0\.1:1/);
    assert.match(unreachable.summary, /<h2>oc-mirror mirror failed<\/h2>/);
    assert.deepEqual(readdirSync(services.env.RUNNER_TEMP!).filter((n) => n.startsWith('oc-mirror-auth-')), []);

    const del = await step('delete', { config, generate: 'true', destination: `${reg.host}/x` });
    assert.equal(del.code, 1);
    assert.deepEqual(del.errors, ['input "workspace": required with generate (the workspace of the mirror run that wrote the images)']);

    const root = await step('root', { command: 'plan', config });
    assert.equal(root.code, 0, describeRun(root));
    assert.equal(root.outputs.images, '1');
    const wrong = await step('root', { command: 'copy', config });
    assert.deepEqual(wrong.errors, ['input "command": "copy" is not one of plan, mirror, pack, push, delete']);
  });

  test('no secret in outputs, summaries, logs, artifacts or archives', async () => {
    const secrets = [reg.password!, Buffer.from(`${reg.username}:${reg.password}`).toString('base64'), services.githubToken];
    assert.ok(runs.length >= 10);
    for (const run of runs) {
      // `::add-mask::<value>` is how a step hands the runner what to mask: the one place a secret goes.
      const logs = run.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n') + run.stderr;
      for (const secret of secrets) {
        assert.ok(!JSON.stringify(run.outputs).includes(secret), 'outputs');
        assert.ok(!run.summary.includes(secret), 'summary');
        assert.ok(!logs.includes(secret), 'logs');
      }
      assert.ok(run.stdout.includes(`::add-mask::${reg.password}`), 'the password is masked');
    }
    for (const artifact of services.artifacts.list()) {
      const bytes = await services.artifacts.read(artifact.name, artifact.runId);
      for (const secret of secrets) assert.equal(bytes.includes(secret), false, artifact.name);
    }
    for (const dir of ['out', 'out-2', 'out-q']) {
      for (const name of readdirSync(join(workspace, dir)).filter((n) => n.endsWith('.tar'))) {
        const bytes = readFileSync(join(workspace, dir, name));
        for (const secret of secrets) assert.equal(bytes.includes(secret), false, name);
      }
    }
  });
});
