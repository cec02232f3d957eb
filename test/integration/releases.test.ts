/**
 * Platform releases end to end: Cincinnati, payloads with image-references, signatures, the graph
 * image, built on loopback (support/release-world.ts), one registry for sources and destinations.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import { removeDir } from '../support/cleanup.js';
import { freePort } from '../support/ports.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { buildReleaseWorld, COMPONENT_REPO, type ReleaseWorld } from '../support/release-world.js';
import { inspectRaw, listTags } from '../support/skopeo.js';
import { integrationSuite } from '../support/tools.js';
import { diskBox, runD2M, runM2D } from './disk-helpers.js';
import { describeRun, ocMirror, sandbox, writeIsc, type Sandbox } from './m2m-helpers.js';

const KV = 'kv-1';

/** Tags of a repository, [] when it does not exist (the registry's own listing). */
async function tags(reg: TestRegistry, repo: string): Promise<string[]> {
  const res = await fetch(`${reg.url}/v2/${repo}/tags/list`);
  if (res.status === 404) return [];
  return (((await res.json()) as { tags?: string[] }).tags ?? []).sort();
}

/** Tags and manifest digests as skopeo reads them. */
async function skopeoTags(reg: TestRegistry, repo: string): Promise<string[]> {
  return (await listTags(`${reg.host}/${repo}`, reg)).sort();
}

async function skopeoDigest(reg: TestRegistry, ref: string): Promise<string> {
  return `sha256:${createHash('sha256').update(await inspectRaw(ref, reg)).digest('hex')}`;
}

async function registryGet(reg: TestRegistry, path: string, accept?: string): Promise<Buffer> {
  const res = await fetch(`${reg.url}${path}`, accept ? { headers: { accept } } : {});
  assert.equal(res.status, 200, `GET ${path}`);
  return Buffer.from(await res.arrayBuffer());
}

/** `release:` and `graph:` lines of an ISC platform stanza. */
function platformIsc(lines: string): string {
  return `mirror:\n  platform:\n${lines}`;
}

const HEAD = platformIsc('    channels:\n    - name: stable-4.18\n');

describe('platform releases', integrationSuite(), () => {
  let reg: TestRegistry;
  let world: ReleaseWorld;
  let box: Sandbox;
  let closedUrl: string;

  const cleanups: (() => unknown)[] = [];
  const hooks = { after: (fn: () => unknown) => void cleanups.push(fn) };
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  before(async () => {
    reg = await startRegistry({}, hooks);
    world = await buildReleaseWorld(
      reg,
      [
        { version: '4.18.1', arch: 'amd64', components: { cli: 'cli-1', etcd: 'etcd-1' }, kubeVirt: KV, channels: ['stable-4.18'] },
        { version: '4.18.2', arch: 'amd64', components: { cli: 'cli-1', etcd: 'etcd-2' }, kubeVirt: KV, stale: true, channels: ['stable-4.18'] },
        { version: '4.18.3', arch: 'amd64', components: { cli: 'cli-3', etcd: 'etcd-2' }, kubeVirt: KV, channels: ['stable-4.18'] },
        { version: '4.18.3', arch: 'multi', components: { cli: 'cli-3', etcd: 'etcd-2' }, kubeVirt: KV, channels: ['stable-4.18'] },
        { version: '4.19.0', arch: 'amd64', components: { cli: 'cli-3' }, signature: 'untrusted', channels: ['candidate-4.19'] },
        { version: '4.19.1', arch: 'amd64', components: { cli: 'cli-3', etcd: 'missing:etcd' }, channels: ['broken-4.19'] },
      ],
      hooks,
    );
    box = sandbox();
    cleanups.push(() => removeDir(box.dir));
    closedUrl = `http://127.0.0.1:${await freePort()}/closed`;
  });
  const run = (isc: string, args: string[], env: Record<string, string> = {}) => ocMirror(box, ['-c', isc, ...args], { ...world.env, ...env });
  const payload = (key: string) => world.payloads.get(key)!;
  const component = (key: string) => `${reg.host}/${COMPONENT_REPO}@${world.components.get(key)}`;

  /** mapping.txt lines a release contributes at `dest` (components in image-references order, KubeVirt last, then the payload). */
  function releaseLines(dest: string, key: string, releaseTag: string, comps: Record<string, string>, kubeVirt = false): string[] {
    const lines = Object.entries(comps).map(([name, c]) => `docker://${component(c)}=docker://${dest}/openshift/release:${releaseTag}-${name}`);
    if (kubeVirt) lines.push(`docker://${component(KV)}=docker://${dest}/openshift/release:${releaseTag}-kube-virt-container`);
    return [...lines, `docker://${payload(key).ref}=docker://${dest}/openshift/release-images:${releaseTag}`];
  }

  async function mapping(name: string, isc: string, extra: string[] = []): Promise<string[]> {
    const ws = join(box.dir, name);
    const r = await run(writeIsc(box, `${name}.yaml`, isc), ['--workspace', `file://${ws}`, `docker://${reg.host}/${name}`, '--dry-run', '--src-tls-verify=false', ...extra]);
    assert.equal(r.code, 0, describeRun(r));
    return readFileSync(join(ws, 'working-dir', 'dry-run', 'mapping.txt'), 'utf8').trim().split('\n');
  }

  /** components first (in release order), then payloads: the plan's copy order */
  const ordered = (groups: string[][]) => [...groups.flatMap((g) => g.slice(0, -1)), ...groups.map((g) => g.at(-1)!)];

  test('head, full, min–max and a second architecture select exactly their payloads and components; a stale older layer is ignored', async () => {
    const d = (n: string) => `${reg.host}/${n}`;
    assert.deepEqual(await mapping('head', HEAD), ordered([releaseLines(d('head'), '4.18.3-amd64', '4.18.3-x86_64', { cli: 'cli-3', etcd: 'etcd-2' })]));

    const full = platformIsc('    architectures: [amd64, multi]\n    channels:\n    - name: stable-4.18\n      full: true\n');
    assert.deepEqual(
      await mapping('full', full),
      ordered([
        releaseLines(d('full'), '4.18.1-amd64', '4.18.1-x86_64', { cli: 'cli-1', etcd: 'etcd-1' }),
        releaseLines(d('full'), '4.18.2-amd64', '4.18.2-x86_64', { cli: 'cli-1', etcd: 'etcd-2' }),
        releaseLines(d('full'), '4.18.3-amd64', '4.18.3-x86_64', { cli: 'cli-3', etcd: 'etcd-2' }),
        releaseLines(d('full'), '4.18.3-multi', '4.18.3-multi', { cli: 'cli-3', etcd: 'etcd-2' }),
      ]),
    );

    // platform.release by tag: no Cincinnati; the version comes from the payload's release-metadata.
    const single = platformIsc(`    release: ${reg.host}/ocp/release:4.18.2-x86_64\n`);
    assert.deepEqual(await mapping('single', single), ordered([releaseLines(d('single'), '4.18.2-amd64', '4.18.2-x86_64', { cli: 'cli-1', etcd: 'etcd-2' })]));

    const range = platformIsc('    kubeVirtContainer: true\n    channels:\n    - name: stable-4.18\n      minVersion: 4.18.1\n      maxVersion: 4.18.2\n');
    assert.deepEqual(
      await mapping('range', range),
      ordered([
        releaseLines(d('range'), '4.18.1-amd64', '4.18.1-x86_64', { cli: 'cli-1', etcd: 'etcd-1' }, true),
        releaseLines(d('range'), '4.18.2-amd64', '4.18.2-x86_64', { cli: 'cli-1', etcd: 'etcd-2' }, true),
      ]),
    );
  });

  test('mirror to mirror: names at the destination, signature ConfigMap, graph image and UpdateService, IDMS/ITMS', async () => {
    const ws = join(box.dir, 'm2m');
    const dest = `${reg.host}/m2m`;
    const isc = writeIsc(box, 'm2m.yaml', platformIsc('    graph: true\n    kubeVirtContainer: true\n    channels:\n    - name: stable-4.18\n'));
    const r = await run(isc, ['--workspace', `file://${ws}`, `docker://${dest}`, '--dest-tls-verify=false', '--src-tls-verify=false']);
    assert.equal(r.code, 0, describeRun(r));

    const p = payload('4.18.3-amd64');
    assert.deepEqual(await skopeoTags(reg, 'm2m/openshift/release-images'), ['4.18.3-x86_64']);
    assert.deepEqual(await skopeoTags(reg, 'm2m/openshift/release'), ['4.18.3-x86_64-cli', '4.18.3-x86_64-etcd', '4.18.3-x86_64-kube-virt-container']);
    assert.equal(await skopeoDigest(reg, `${dest}/openshift/release-images:4.18.3-x86_64`), p.digest);
    assert.equal(await skopeoDigest(reg, `${dest}/openshift/release:4.18.3-x86_64-etcd`), world.components.get('etcd-2'));
    assert.equal(await skopeoDigest(reg, `${dest}/openshift/release:4.18.3-x86_64-kube-virt-container`), world.components.get(KV));

    const resources = join(ws, 'working-dir', 'cluster-resources');
    const cm = JSON.parse(readFileSync(join(resources, 'signature-configmap.json'), 'utf8'));
    assert.deepEqual(cm.binaryData, { [`${p.digest.replace(':', '-')}-1`]: p.signature!.toString('base64') });
    assert.equal(cm.metadata.namespace, 'openshift-config-managed');
    assert.deepEqual(parseYaml(readFileSync(join(resources, 'signature-configmap.yaml'), 'utf8')).binaryData, cm.binaryData);
    const signatures = readdirSync(join(ws, 'working-dir', 'signatures'));
    assert.deepEqual(signatures, [`4.18.3-x86_64-${p.digest.replace(':', '-')}`]);

    const us = parseYaml(readFileSync(join(resources, 'updateService.yaml'), 'utf8'));
    assert.deepEqual(us.spec, { graphDataImage: `${dest}/openshift/graph-image:latest`, releases: `${dest}/openshift/release-images`, replicas: 2 });
    assert.equal(us.metadata.name, 'update-service-oc-mirror');

    // The graph image: the base's layers, then the graph data under /var/lib/cincinnati-graph-data.
    const manifest = JSON.parse((await registryGet(reg, '/v2/m2m/openshift/graph-image/manifests/latest', 'application/vnd.oci.image.manifest.v1+json')).toString());
    const config = JSON.parse((await registryGet(reg, `/v2/m2m/openshift/graph-image/blobs/${manifest.config.digest}`)).toString());
    assert.deepEqual(config.config.Cmd, ['/bin/bash', '-c', 'exec cp -rp /var/lib/cincinnati-graph-data/* /var/lib/cincinnati/graph-data']);
    assert.equal(manifest.layers.length, 2);
    const layer = gunzipSync(await registryGet(reg, `/v2/m2m/openshift/graph-image/blobs/${manifest.layers[1].digest}`));
    const names: string[] = [];
    for (let off = 0; off + 512 <= layer.length && layer[off] !== 0; ) {
      const name = layer.toString('utf8', off, off + 100).replace(/\0.*$/s, '');
      const size = parseInt(layer.toString('ascii', off + 124, off + 136).replace(/\0.*$/s, '').trim() || '0', 8);
      names.push(name);
      off += 512 + Math.ceil(size / 512) * 512;
    }
    assert.deepEqual(names, [
      'var/',
      'var/lib/',
      'var/lib/cincinnati-graph-data/',
      'var/lib/cincinnati-graph-data/channels/',
      'var/lib/cincinnati-graph-data/channels/stable-4.18.yaml',
      'var/lib/cincinnati-graph-data/blocked-edges/',
      'var/lib/cincinnati-graph-data/blocked-edges/4.18.2-bug.yaml',
      'var/lib/cincinnati-graph-data/version',
    ]);

    const idms = readFileSync(join(resources, 'idms-oc-mirror.yaml'), 'utf8');
    const releaseIdms = parseYaml(idms.split('---\n').find((d) => d.includes('idms-release-0'))!);
    assert.deepEqual(releaseIdms.spec.imageDigestMirrors, [
      { mirrors: [`${dest}/openshift/release`], source: `${reg.host}/${COMPONENT_REPO}` },
      { mirrors: [`${dest}/openshift/release-images`], source: `${reg.host}/ocp/release` },
    ]);

    // A second run finds everything there: nothing copied, same resources.
    const again = await run(isc, ['--workspace', `file://${ws}`, `docker://${dest}`, '--dest-tls-verify=false', '--src-tls-verify=false']);
    assert.equal(again.code, 0, describeRun(again));
    assert.deepEqual(JSON.parse(readFileSync(join(resources, 'signature-configmap.json'), 'utf8')).binaryData, cm.binaryData);
  });

  test('mirror to disk, then disk to mirror with no network but the destination', async (t) => {
    const disk = diskBox(t);
    const isc = writeIsc(disk, 'isc.yaml', platformIsc('    graph: true\n    channels:\n    - name: stable-4.18\n'));
    const m2d = await runM2D(disk, isc, disk.out, disk.cache, [], world.env);
    assert.equal(m2d.code, 0, describeRun(m2d));
    // Disk to mirror: every source endpoint is closed, a fresh store: only the archives.
    const offline = { UPDATE_URL_OVERRIDE: closedUrl, OCP_SIGNATURE_URL: closedUrl, OC_MIRROR_GRAPH_DATA_URL: closedUrl };
    const dest = `${reg.host}/d2m`;
    const d2m = await runD2M(disk, isc, disk.out, dest, join(disk.dir, 'empty-cache'), [], { ...world.env, ...offline });
    assert.equal(d2m.code, 0, describeRun(d2m));
    assert.deepEqual(await skopeoTags(reg, 'd2m/openshift/release-images'), ['4.18.3-x86_64']);
    assert.deepEqual(await skopeoTags(reg, 'd2m/openshift/release'), ['4.18.3-x86_64-cli', '4.18.3-x86_64-etcd']);
    assert.deepEqual(await skopeoTags(reg, 'd2m/openshift/graph-image'), ['latest']);
    const p = payload('4.18.3-amd64');
    assert.equal(await skopeoDigest(reg, `${dest}/openshift/release-images:4.18.3-x86_64`), p.digest);
    assert.equal(await skopeoDigest(reg, `${dest}/openshift/graph-image:latest`), await skopeoDigest(reg, `${reg.host}/m2m/openshift/graph-image:latest`));
    const resources = join(disk.out, 'working-dir', 'cluster-resources');
    const cm = JSON.parse(readFileSync(join(resources, 'signature-configmap.json'), 'utf8'));
    assert.deepEqual(cm.binaryData, { [`${p.digest.replace(':', '-')}-1`]: p.signature!.toString('base64') });
    assert.equal(parseYaml(readFileSync(join(resources, 'updateService.yaml'), 'utf8')).spec.graphDataImage, `${dest}/openshift/graph-image:latest`);
  });

  test('a release signature by an unknown key stops the run before anything is copied (exit bit 2)', async () => {
    const ws = join(box.dir, 'badsig');
    const isc = writeIsc(box, 'badsig.yaml', platformIsc('    channels:\n    - name: candidate-4.19\n'));
    const r = await run(isc, ['--workspace', `file://${ws}`, `docker://${reg.host}/badsig`, '--dest-tls-verify=false', '--src-tls-verify=false']);
    assert.equal(r.code, 2, describeRun(r));
    assert.match(r.stderr, /^error: release 4\.19\.0 \(amd64\): the release signature does not verify against the release keys/m);
    assert.deepEqual(await tags(reg, 'badsig/openshift/release'), []);
    assert.deepEqual(await tags(reg, 'badsig/openshift/release-images'), []);

    const ignored = await run(isc, ['--workspace', `file://${ws}`, `docker://${reg.host}/badsig`, '--dest-tls-verify=false', '--src-tls-verify=false', '--ignore-release-signature']);
    assert.equal(ignored.code, 0, describeRun(ignored));
    assert.deepEqual(await skopeoTags(reg, 'badsig/openshift/release-images'), ['4.19.0-x86_64']);
    assert.ok(!existsSync(join(ws, 'working-dir', 'cluster-resources', 'signature-configmap.json')), 'no signature ConfigMap without signatures');
  });

  test('a release component that cannot be copied stops the run: the rest is skipped, exit bit 2', async () => {
    const ws = join(box.dir, 'broken');
    const isc = writeIsc(box, 'broken.yaml', platformIsc('    channels:\n    - name: broken-4.19\n'));
    const r = await run(isc, ['--workspace', `file://${ws}`, `docker://${reg.host}/broken`, '--dest-tls-verify=false', '--src-tls-verify=false', '--parallel-images', '1', '--retry-times', '0']);
    assert.equal(r.code, 2, describeRun(r));
    assert.doesNotMatch(r.stderr, /Failed to copy ocpRelease /, 'the payload is not started once a component failed');
    const logs = join(ws, 'working-dir', 'logs');
    const report = JSON.parse(readFileSync(join(logs, readdirSync(logs).find((n) => n.startsWith('report_'))!), 'utf8'));
    const statuses = Object.fromEntries(report.images.map((i: { task: { destination: string }; status: string }) => [i.task.destination.replace(`${reg.host}/broken/`, ''), i.status]));
    assert.deepEqual(statuses, {
      'openshift/release:4.19.1-x86_64-cli': 'mirrored',
      'openshift/release:4.19.1-x86_64-etcd': 'failed',
      'openshift/release-images:4.19.1-x86_64': 'skipped',
    });
    const errors = readFileSync(join(logs, readdirSync(logs).find((n) => n.startsWith('mirroring_errors_'))!), 'utf8');
    assert.match(errors, new RegExp(`error mirroring image docker://${component('missing:etcd').replace(/[.]/g, '\\.')} error: `));
    assert.match(errors, /openshift\/release-images|ocp\/release:4\.19\.1-x86_64@sha256:[a-f0-9]+ error: not mirrored: the run stopped after .* failed to mirror/);
    assert.deepEqual(await tags(reg, 'broken/openshift/release-images'), []);
    assert.ok(!existsSync(join(ws, 'working-dir', 'cluster-resources', 'signature-configmap.json')), 'no signature ConfigMap for a payload that was not mirrored');
  });

  test('unreachable graph data stops the run with the release exit bit', async () => {
    const ws = join(box.dir, 'nograph');
    const isc = writeIsc(box, 'nograph.yaml', platformIsc('    graph: true\n    channels:\n    - name: stable-4.18\n'));
    const r = await run(isc, ['--workspace', `file://${ws}`, `docker://${reg.host}/nograph`, '--dest-tls-verify=false', '--src-tls-verify=false'], {
      OC_MIRROR_GRAPH_DATA_URL: closedUrl,
    });
    assert.equal(r.code, 2, describeRun(r));
    assert.match(r.stderr, /^error: mirror\.platform\.graph: building the graph image \(graph data http:\/\/127\.0\.0\.1:\d+\/closed, base .*\): cannot download the graph data/m);
    assert.deepEqual(await tags(reg, 'nograph/openshift/release-images'), []);
  });
});
