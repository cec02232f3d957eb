/**
 * selectReleases against a real HTTP Cincinnati on loopback (test/support/cincinnati-server.ts):
 * what is asked, what is saved under working-dir, and disk to mirror reading it back offline.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { request } from 'undici';
import { DirectoryMetadata } from '../../src/collect/metadata.js';
import type { CollectContext, CollectMode } from '../../src/collect/types.js';
import type { ImageSetConfiguration, Platform } from '../../src/config/types.js';
import { OcMirrorError } from '../../src/errors.js';
import { HttpClient } from '../../src/http/client.js';
import type { Logger } from '../../src/log.js';
import type { MirrorOptions } from '../../src/options.js';
import { selectReleases, type SelectedRelease } from '../../src/release/select.js';
import { startCincinnatiServer, type CincinnatiRelease } from '../support/cincinnati-server.js';

const WHERE = 'isc.yaml mirror.platform';
const payload = (arch: string, v: string) =>
  `quay.io/openshift-release-dev/ocp-release@sha256:${createHash('sha256').update(`${arch}/${v}`).digest('hex')}`;
const releases = (arch: string, versions: string[]): CincinnatiRelease[] => versions.map((version) => ({ version, payload: payload(arch, version) }));
const chain = (versions: string[]): [string, string][] => versions.slice(0, -1).map((v, i) => [v, versions[i + 1]!]);

const V417 = ['4.17.8', '4.17.9', '4.17.10'];
const V418 = ['4.17.10', '4.18.1', '4.18.2', '4.18.3'];
const V419 = ['4.18.3', '4.19.0', '4.19.1'];

const server = await startCincinnatiServer(
  {
    channels: {
      'stable-4.17': { amd64: releases('amd64', V417), arm64: releases('arm64', ['4.17.10']) },
      'stable-4.18': { amd64: releases('amd64', V418), arm64: releases('arm64', ['4.17.10', '4.18.1', '4.18.2']) },
      'stable-4.19': { amd64: releases('amd64', V419) },
      'broken-4.18': {},
    },
    // By version, for every architecture; 4.18.1 → 4.18.3 is a shortcut past 4.18.2.
    edges: [...chain(V417), ...chain(V418), ...chain(V419), ['4.18.1', '4.18.3']],
    override: (req) => (req.query.channel === 'broken-4.18' ? { status: 200, body: '{"nodes": [' } : undefined),
  },
  { after },
);

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function workingDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'release-select-'));
  dirs.push(dir);
  return dir;
}

interface Run {
  ctx: CollectContext;
  metadata: DirectoryMetadata;
  warnings: string[];
}

/** A collect context with what selectReleases uses: mode, log, metadata, http. */
function context(mode: CollectMode, dir: string): Run {
  const warnings: string[] = [];
  const log: Logger = { error() {}, warn: (m) => warnings.push(m), info() {}, debug() {}, trace() {} };
  const http = new HttpClient({ tlsVerify: true, timeoutMs: 5_000 });
  after(() => http.close());
  const metadata = new DirectoryMetadata(dir);
  const ctx: CollectContext = {
    config: { kind: 'ImageSetConfiguration', apiVersion: 'mirror.openshift.io/v2alpha1', mirror: {} } as ImageSetConfiguration,
    configFile: 'isc.yaml',
    mode,
    // selectReleases reads no option: the workflow already turned them into http and metadata.
    options: { workingDir: dir } as MirrorOptions,
    log,
    source: () => {
      throw new Error('release selection reads no image');
    },
    metadata,
    http,
  };
  return { ctx, metadata, warnings };
}

const env = { UPDATE_URL_OVERRIDE: server.url };
const brief = (r: SelectedRelease) => `${r.architecture} ${r.version} [${r.channels.join(',')}]`;
const GRAPH_DIR = 'hold-release/cincinnati-graph-data';

/** selectReleases' one-line error, with the server's answers counted */
async function failure(run: Run, platform: Platform, mode = env): Promise<string> {
  try {
    await selectReleases(run.ctx, platform, WHERE, mode);
  } catch (err) {
    assert.ok(err instanceof OcMirrorError, `not an OcMirrorError: ${String(err)}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return err.message;
  }
  assert.fail('selectReleases succeeded');
}

describe('selectReleases against Cincinnati (mirror to disk) and the saved graphs (disk to mirror)', () => {
  it('asks per channel and architecture with the oc-mirror query, saves the answers raw, and d2m selects the same offline', async () => {
    const dir = await workingDir();
    const platform: Platform = {
      architectures: ['amd64', 'arm64'],
      channels: [{ name: 'stable-4.18', minVersion: '4.18.2' }, { name: 'stable-4.17', full: true }],
    };
    const before = server.requests.length;
    const m2d = context('mirrorToDisk', dir);
    const selection = await selectReleases(m2d.ctx, platform, WHERE, env);

    // amd64: stable-4.18 from 4.18.2 to its head, all of stable-4.17, and the upgrade path between
    // them (4.17.8 → 4.17.10 in stable-4.17, then 4.17.10 → 4.18.1 → 4.18.3 in stable-4.18),
    // which adds 4.18.1. arm64 likewise, from its own graphs.
    assert.deepEqual(selection.releases.map(brief), [
      'amd64 4.17.8 [stable-4.17]',
      'amd64 4.17.9 [stable-4.17]',
      'amd64 4.17.10 [stable-4.17,stable-4.18]',
      'amd64 4.18.1 [stable-4.18]',
      'amd64 4.18.2 [stable-4.18]',
      'amd64 4.18.3 [stable-4.18]',
      'arm64 4.17.10 [stable-4.17,stable-4.18]',
      'arm64 4.18.1 [stable-4.18]',
      'arm64 4.18.2 [stable-4.18]',
    ]);
    assert.equal(selection.releases[0]!.payload, payload('amd64', '4.17.8'));
    assert.equal(selection.releases[6]!.payload, payload('arm64', '4.17.10'));
    assert.ok(selection.releases.every((r) => r.origin === 'graph'));
    assert.deepEqual(m2d.warnings, [`${WHERE}.architectures is deprecated: use ${WHERE}.platforms (os/architecture pairs of the multi-arch payload)`]);
    assert.deepEqual(selection.warnings, m2d.warnings);

    const asked = server.requests.slice(before);
    assert.deepEqual(
      asked.map((r) => `${r.path} ${r.query.channel} ${r.query.arch} ${r.accept} ${r.status}`),
      [
        '/api/upgrades_info/v1/graph stable-4.18 amd64 application/json 200',
        '/api/upgrades_info/v1/graph stable-4.17 amd64 application/json 200',
        '/api/upgrades_info/v1/graph stable-4.18 arm64 application/json 200',
        '/api/upgrades_info/v1/graph stable-4.17 arm64 application/json 200',
      ],
    );
    assert.deepEqual(Object.keys(asked[0]!.query).sort(), ['arch', 'channel', 'id']);
    const ids = new Set(asked.map((r) => r.query.id));
    assert.equal(ids.size, 1, 'one client id per run');
    assert.match([...ids][0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    // Saved: the very bytes Cincinnati answered, under oc-mirror's names.
    assert.deepEqual(await readdir(join(dir, GRAPH_DIR)), [
      'amd64-stable-4.17.json',
      'amd64-stable-4.18.json',
      'arm64-stable-4.17.json',
      'arm64-stable-4.18.json',
    ]);
    assert.deepEqual(m2d.metadata.written(), [
      `${GRAPH_DIR}/amd64-stable-4.17.json`,
      `${GRAPH_DIR}/amd64-stable-4.18.json`,
      `${GRAPH_DIR}/arm64-stable-4.17.json`,
      `${GRAPH_DIR}/arm64-stable-4.18.json`,
    ]);
    const direct = await request(`${server.url}?channel=stable-4.18&arch=amd64`, { headers: { accept: 'application/json' } });
    const served = Buffer.from(await direct.body.arrayBuffer());
    assert.deepEqual(await readFile(join(dir, GRAPH_DIR, 'amd64-stable-4.18.json')), served);
    assert.deepEqual(
      selection.graphs.map((g) => `${g.type} ${g.architecture} ${g.channel} ${g.metadataPath} ${g.graph.nodes.length} ${g.url}`),
      [
        `ocp amd64 stable-4.18 ${GRAPH_DIR}/amd64-stable-4.18.json 4 ${server.url}?channel=stable-4.18&arch=amd64`,
        `ocp amd64 stable-4.17 ${GRAPH_DIR}/amd64-stable-4.17.json 3 ${server.url}?channel=stable-4.17&arch=amd64`,
        `ocp arm64 stable-4.18 ${GRAPH_DIR}/arm64-stable-4.18.json 3 ${server.url}?channel=stable-4.18&arch=arm64`,
        `ocp arm64 stable-4.17 ${GRAPH_DIR}/arm64-stable-4.17.json 1 ${server.url}?channel=stable-4.17&arch=arm64`,
      ],
    );

    // Disk to mirror, and delete: not one request, the same answer.
    for (const mode of ['diskToMirror', 'delete'] as const) {
      const count = server.requests.length;
      const offline = context(mode, dir);
      const again = await selectReleases(offline.ctx, platform, WHERE, env);
      assert.equal(server.requests.length, count, `${mode} made requests`);
      assert.deepEqual(again.releases, selection.releases);
      assert.deepEqual(offline.metadata.written(), []);
    }
  });

  it('the upgrade path walks through an intermediate channel, which is fetched and saved too', async () => {
    const dir = await workingDir();
    const platform: Platform = { channels: [{ name: 'stable-4.17' }, { name: 'stable-4.19', maxVersion: '4.19.0' }] };
    const m2m = context('mirrorToMirror', dir);
    const selection = await selectReleases(m2m.ctx, platform, WHERE, env);
    // stable-4.17 head 4.17.10; stable-4.19 from its lowest (4.18.3) to 4.19.0; the path
    // 4.17.10 → 4.18.1 → 4.18.3 (stable-4.18, not configured) → 4.19.0 (stable-4.19).
    assert.deepEqual(selection.releases.map(brief), [
      'amd64 4.17.10 [stable-4.17,stable-4.18]',
      'amd64 4.18.1 [stable-4.18]',
      'amd64 4.18.3 [stable-4.19,stable-4.18]',
      'amd64 4.19.0 [stable-4.19]',
    ]);
    assert.deepEqual(m2m.warnings, []);
    assert.deepEqual(m2m.metadata.written(), [
      `${GRAPH_DIR}/amd64-stable-4.17.json`,
      `${GRAPH_DIR}/amd64-stable-4.18.json`,
      `${GRAPH_DIR}/amd64-stable-4.19.json`,
    ]);
    const d2m = context('diskToMirror', dir);
    assert.deepEqual((await selectReleases(d2m.ctx, platform, WHERE, {})).releases, selection.releases);
  });

  it('platform.release: that release only, no Cincinnati', async () => {
    const run = context('mirrorToDisk', await workingDir());
    const count = server.requests.length;
    const release = 'quay.io/openshift-release-dev/ocp-release:4.18.3-x86_64';
    const selection = await selectReleases(run.ctx, { release, channels: [{ name: 'stable-4.18' }] }, WHERE, env);
    assert.deepEqual(selection, {
      releases: [{ version: '', architecture: 'amd64', payload: release, channels: [], origin: 'release' }],
      graphs: [],
      warnings: [`${WHERE}.channels are ignored: ${WHERE}.release names the one release to mirror`],
    });
    assert.equal(server.requests.length, count);
  });

  it('platforms: the multi graph', async () => {
    const multi = await startCincinnatiServer({ channels: { 'stable-4.18': { multi: releases('multi', ['4.18.1', '4.18.2']) } } }, { after });
    const run = context('mirrorToDisk', await workingDir());
    const selection = await selectReleases(
      run.ctx,
      { platforms: [{ os: 'linux', architecture: 'arm64' }], channels: [{ name: 'stable-4.18' }] },
      WHERE,
      { UPDATE_URL_OVERRIDE: multi.url },
    );
    assert.deepEqual(selection.releases.map(brief), ['multi 4.18.2 [stable-4.18]']);
    assert.deepEqual(multi.requests.map((r) => r.query.arch), ['multi']);
    assert.deepEqual(run.metadata.written(), [`${GRAPH_DIR}/multi-stable-4.18.json`]);
  });
});

describe('selectReleases errors: one line naming the channel', () => {
  it('a channel Cincinnati does not know (empty graph)', async () => {
    const run = context('mirrorToDisk', await workingDir());
    assert.equal(
      await failure(run, { channels: [{ name: 'stable-4.18' }, { name: 'stabel-4.19' }] }),
      `${WHERE}.channels[1]: Cincinnati has no releases in channel "stabel-4.19" (amd64) at ${server.url}?channel=stabel-4.19&arch=amd64: check the channel name and architecture`,
    );
    // Nothing saved for the unknown channel.
    assert.deepEqual(run.metadata.written(), [`${GRAPH_DIR}/amd64-stable-4.18.json`]);
  });

  it('a channel Cincinnati refuses (4xx)', async () => {
    const refusing = await startCincinnatiServer(
      { channels: {}, override: () => ({ status: 400, body: 'invalid channel: stable-9.9\nsecond line' }) },
      { after },
    );
    const run = context('mirrorToDisk', await workingDir());
    assert.equal(
      await failure(run, { channels: [{ name: 'stable-9.9' }] }, { UPDATE_URL_OVERRIDE: refusing.url }),
      `${WHERE}.channels[0]: Cincinnati does not know channel "stable-9.9" (amd64): ${refusing.url}?channel=stable-9.9&arch=amd64 answered HTTP 400: invalid channel: stable-9.9`,
    );
  });

  it('a graph that is not JSON', async () => {
    const run = context('mirrorToDisk', await workingDir());
    const message = await failure(run, { channels: [{ name: 'broken-4.18' }] });
    assert.match(
      message,
      new RegExp(
        `^${escape(`${WHERE}.channels[0]: the Cincinnati graph of channel "broken-4.18" (amd64) from ${server.url}?channel=broken-4.18&arch=amd64 is not a valid graph: not JSON: `)}`,
      ),
    );
    assert.deepEqual(run.metadata.written(), []);
  });

  it('Cincinnati unreachable', async () => {
    const gone = await startCincinnatiServer({ channels: {} });
    await gone.close();
    const run = context('mirrorToDisk', await workingDir());
    const message = await failure(run, { channels: [{ name: 'stable-4.18' }] }, { UPDATE_URL_OVERRIDE: gone.url });
    assert.match(
      message,
      new RegExp(`^${escape(`${WHERE}.channels[0]: cannot fetch the Cincinnati graph of channel "stable-4.18" (amd64) from ${gone.url}?channel=stable-4.18&arch=amd64: `)}.*ECONNREFUSED`),
    );
  });

  it('disk to mirror without the saved graph', async () => {
    const run = context('diskToMirror', await workingDir());
    const count = server.requests.length;
    assert.equal(
      await failure(run, { channels: [{ name: 'stable-4.18' }] }),
      `${WHERE}.channels[0]: no saved Cincinnati graph for channel "stable-4.18" (amd64): working-dir/${GRAPH_DIR}/amd64-stable-4.18.json is neither in the archives nor in the workspace (run mirror to disk with this configuration first)`,
    );
    assert.equal(server.requests.length, count);
  });

  it('a saved graph that is damaged', async () => {
    const dir = await workingDir();
    await new DirectoryMetadata(dir).write(`${GRAPH_DIR}/amd64-stable-4.18.json`, '{"nodes":[{"version":"x","payload":"p"}]}');
    const run = context('delete', dir);
    assert.equal(
      await failure(run, { channels: [{ name: 'stable-4.18' }] }),
      `${WHERE}.channels[0]: the saved Cincinnati graph of channel "stable-4.18" (amd64) (working-dir/${GRAPH_DIR}/amd64-stable-4.18.json) is not a valid graph: nodes[0].version "x" is not a semantic version`,
    );
  });

  it('channel names that cannot be file names are refused before any request', async () => {
    const run = context('mirrorToDisk', await workingDir());
    const count = server.requests.length;
    assert.equal(
      await failure(run, { channels: [{ name: 'stable-4.18' }, { name: '../etc' }] }),
      `${WHERE}.channels[1].name: "../etc" is not a release channel name (letters, digits, '.', '_' and '-', e.g. stable-4.18)`,
    );
    assert.equal(server.requests.length, count);
  });

  it('channels that select nothing at all', async () => {
    const run = context('mirrorToDisk', await workingDir());
    assert.equal(
      await failure(run, { channels: [{ name: 'stable-4.18', minVersion: '4.18.4', maxVersion: '4.18.9' }] }),
      `${WHERE}.channels: no release selected in any channel (see the warnings above)`,
    );
    assert.deepEqual(run.warnings, [`${WHERE}.channels[0] (amd64): channel "stable-4.18" has no release between 4.18.4 and 4.18.9`]);
  });

  it('the EUS warning, once', async () => {
    const eus = await startCincinnatiServer(
      { channels: { 'eus-4.16': { amd64: releases('amd64', ['4.14.1', '4.16.1']) }, 'eus-4.18': { amd64: releases('amd64', ['4.16.1', '4.18.1']) } } },
      { after },
    );
    const run = context('mirrorToDisk', await workingDir());
    await selectReleases(
      run.ctx,
      { channels: [{ name: 'eus-4.16', minVersion: '4.14.1', maxVersion: '4.16.1' }, { name: 'eus-4.18', minVersion: '4.16.1', maxVersion: '4.18.1' }] },
      WHERE,
      { UPDATE_URL_OVERRIDE: eus.url },
    );
    assert.deepEqual(run.warnings, [
      `${WHERE}.channels[0]: Extended Update Support (EUS) channel "eus-4.16" spans 4.14.1 to 4.16.1: an EUS to EUS update goes through an intermediate minor version; check the path at https://access.redhat.com/labs/ocpupgradegraph/update_path and add its releases`,
      `${WHERE}.channels (amd64): no upgrade path from 4.14.1 to 4.16.1 in channel "eus-4.16": only these two releases are added`,
      `${WHERE}.channels (amd64): the upgrade path between channels stops at 4.16.1: Cincinnati has no releases in channel "eus-4.17" (amd64) at ${eus.url}?channel=eus-4.17&arch=amd64: check the channel name and architecture`,
    ]);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
