/**
 * Enclave pulls (ref §13.1): the images keep their `registry.redhat.io/...` names, and a
 * registries.conf sends the pulls to an enterprise registry. registry.redhat.io is never reached:
 * it is either rewritten away or blocked, so a test that passes proves the mirror served it.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { CopyEngine, type Endpoints } from '../../src/copy/engine.js';
import { formatReference, parseReference, repositoryName, type ImageReference } from '../../src/image/reference.js';
import type { ImageSource } from '../../src/image/transport.js';
import type { CopyTask } from '../../src/plan/types.js';
import { Registry, type RegistryOptions } from '../../src/registry/client.js';
import { MirroredSource } from '../../src/registry/mirrored-source.js';
import { loadRegistriesConf, resolvePull, type PullSource, type RegistriesConf } from '../../src/registry/registries-conf.js';
import { tempDir } from '../support/cleanup.js';
import { pushImage, type PushedImage } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { assertSameImage } from '../support/skopeo.js';
import { integrationSuite } from '../support/tools.js';

const COPY = { parallelImages: 2, parallelLayers: 4, imageTimeoutMs: 60_000, retryTimes: 0, retryDelayMs: 0 };

/**
 * What RegistryEndpoints does with a registries.conf, built from the real pieces: every source
 * pull goes through the configuration; `insecure` turns TLS verification off for that source only
 * (the test registries are plain HTTP, so without it they could not be reached); one
 * MirroredSource per image, so the copy reuses what the probe learnt.
 */
class EnclaveEndpoints implements Endpoints {
  readonly debug: string[] = [];
  private readonly registries = new Map<string, Registry>();
  private readonly sources = new Map<string, ImageSource>();

  constructor(
    private readonly conf: RegistriesConf,
    private readonly dest: TestRegistry,
  ) {}

  source(ref: ImageReference): ImageSource {
    const key = formatReference(ref);
    let src = this.sources.get(key);
    if (!src) {
      const candidates = resolvePull(this.conf, ref).map((c) => this.registry(c.registry, !c.insecure).repository(c.repository, 'pull'));
      src = new MirroredSource(repositoryName(ref), candidates, { debug: (m) => this.debug.push(m) });
      this.sources.set(key, src);
    }
    return src;
  }

  destination(ref: ImageReference) {
    assert.equal(ref.registry, this.dest.host, 'registries.conf never applies to the destination');
    return this.registry(ref.registry, false).repository(ref.repository, 'push');
  }

  async close(): Promise<void> {
    await Promise.all([...this.registries.values()].map((r) => r.close()));
  }

  private registry(host: string, tlsVerify: boolean): Registry {
    const key = `${tlsVerify}|${host}`;
    let r = this.registries.get(key);
    if (!r) {
      const options: RegistryOptions = { tlsVerify, credentials: async () => undefined, connections: 8, uploadChunkSize: 0 };
      r = new Registry(host, options);
      this.registries.set(key, r);
    }
    return r;
  }
}

function task(source: string, destination: string): CopyTask {
  return { source, destination, kind: 'generic', origin: 'additional' };
}

/** Requests the registry logged for `path` (its access log), by method. */
function requests(reg: TestRegistry, method: string, path: RegExp): number {
  return reg.logs().split('\n').filter((l) => l.includes(`"${method} `) && path.test(l)).length;
}

function show(p: PullSource): string {
  return `${p.registry}/${p.repository}${p.mirror ? ' (mirror)' : ''}`;
}

describe('registries.conf: registry.redhat.io names pulled from an enterprise registry', integrationSuite(), () => {
  let enterprise: TestRegistry;
  let empty: TestRegistry;
  let ubi: PushedImage;
  let minimal: PushedImage;
  const dir = tempDir({ after }, 'enclave');

  before(async () => {
    [enterprise, empty] = await Promise.all([startRegistry(), startRegistry()]);
    ubi = await pushImage(enterprise, 'enterprise/ubi9/ubi', '9.4', { layers: [{ size: 300_000 }, { size: 20_000 }] });
    minimal = await pushImage(enterprise, 'enterprise/ubi9/ubi-minimal', '9.4', {
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
    });
    // The other mirror is a live registry with other content: its 404s are "manifest unknown".
    await pushImage(empty, 'rh/ubi9/other', 'v1');
  });
  after(async () => {
    await Promise.all([enterprise?.stop(), empty?.stop()]);
  });

  function load(name: string, text: string): RegistriesConf {
    const path = join(dir, name);
    writeFileSync(path, text);
    return loadRegistriesConf(path, { HOME: join(dir, 'no-home') });
  }

  async function copy(t: TestContext, conf: RegistriesConf, tasks: CopyTask[]) {
    const dest = await startRegistry({}, t);
    const endpoints = new EnclaveEndpoints(conf, dest);
    t.after(() => endpoints.close());
    const run = (ts: CopyTask[]) => new CopyEngine(endpoints, COPY).run(ts.map((x) => ({ ...x, destination: x.destination.replace('DEST', dest.host) })));
    return { dest, endpoints, outcomes: await run(tasks) };
  }

  test('a prefix whose location is the enterprise registry: the image is copied from there', async (t) => {
    const conf = load(
      'rewrite.conf',
      `[[registry]]\nprefix = "registry.redhat.io/ubi9"\nlocation = "${enterprise.host}/enterprise/ubi9"\ninsecure = true\n`,
    );
    assert.deepEqual(resolvePull(conf, parseReference('registry.redhat.io/ubi9/ubi:9.4')).map(show), [`${enterprise.host}/enterprise/ubi9/ubi`]);

    const { dest, endpoints, outcomes } = await copy(t, conf, [task('registry.redhat.io/ubi9/ubi:9.4', 'DEST/mirror/ubi9/ubi:9.4')]);
    assert.deepEqual(outcomes.map((o) => (o.ok ? 'ok' : o.error)), ['ok']);
    assert.equal(outcomes[0]!.ok && outcomes[0]!.result.digest, ubi.digest);
    await assertSameImage(ubi.reference, `${dest.host}/mirror/ubi9/ubi:9.4`, { src: enterprise, dest });
    assert.deepEqual(endpoints.debug, [`registry.redhat.io/ubi9/ubi:9.4: manifest served by ${enterprise.host}/enterprise/ubi9/ubi`]);
  });

  test('two mirrors, the origin blocked: the first mirror lacks the images, the second serves them', async (t) => {
    const conf = load(
      'fallthrough.conf',
      [
        '[[registry]]',
        'location = "registry.redhat.io"',
        'blocked = true',
        '',
        '[[registry]]',
        'prefix = "registry.redhat.io/ubi9"',
        'location = "registry.redhat.io/ubi9"',
        '[[registry.mirror]]',
        `location = "${empty.host}/rh/ubi9"`,
        'insecure = true',
        '[[registry.mirror]]',
        `location = "${enterprise.host}/enterprise/ubi9"`,
        'insecure = true',
        '',
      ].join('\n'),
    );
    assert.deepEqual(resolvePull(conf, parseReference('registry.redhat.io/ubi9/ubi:9.4')).map(show), [
      `${empty.host}/rh/ubi9/ubi (mirror)`,
      `${enterprise.host}/enterprise/ubi9/ubi (mirror)`,
    ]);

    const { dest, endpoints, outcomes } = await copy(t, conf, [
      task('registry.redhat.io/ubi9/ubi:9.4', 'DEST/mirror/ubi9/ubi:9.4'),
      task('registry.redhat.io/ubi9/ubi-minimal:9.4', 'DEST/mirror/ubi9/ubi-minimal:9.4'),
      task('registry.redhat.io/ubi9/nothing:1', 'DEST/mirror/ubi9/nothing:1'),
    ]);
    assert.deepEqual(outcomes.slice(0, 2).map((o) => (o.ok ? 'ok' : o.error)), ['ok', 'ok']);
    await assertSameImage(ubi.reference, `${dest.host}/mirror/ubi9/ubi:9.4`, { src: enterprise, dest });
    await assertSameImage(minimal.reference, `${dest.host}/mirror/ubi9/ubi-minimal:9.4`, { src: enterprise, dest });

    // The first mirror was asked once per image for the tag; the children and blobs went straight
    // to the mirror that served the image.
    assert.equal(requests(empty, 'GET', /\/v2\/rh\/ubi9\/ubi\/manifests\/9\.4 /), 1, empty.logs());
    assert.equal(requests(empty, 'GET', /\/v2\/rh\/ubi9\/ubi-minimal\/manifests\/9\.4 /), 1, empty.logs());
    assert.equal(requests(empty, 'GET', /\/v2\/rh\/ubi9\/ubi(-minimal)?\/(manifests\/sha256|blobs)/), 0, empty.logs());
    const served = `registry.redhat.io/ubi9/ubi:9.4: manifest served by ${enterprise.host}/enterprise/ubi9/ubi (skipped: ${empty.host}/rh/ubi9/ubi: get manifest 9.4: HTTP 404 `;
    assert.ok(
      endpoints.debug.some((l) => l.startsWith(served)),
      endpoints.debug.join('\n'),
    );

    // In neither mirror: one line naming each mirror and why; the blocked origin is not tried.
    const missing = outcomes[2]!;
    assert.equal(missing.ok, false);
    const host = (h: string) => h.replace(/\./g, '\\.');
    assert.match(
      missing.ok ? '' : missing.error,
      new RegExp(
        `^registry\\.redhat\\.io/ubi9/nothing:1: every pull source failed: ` +
          `${host(empty.host)}/rh/ubi9/nothing: get manifest 1: HTTP 404 \\([A-Z_]+: [^;]*\\); ` +
          `${host(enterprise.host)}/enterprise/ubi9/nothing: get manifest 1: HTTP 404 \\([A-Z_]+: [^;]*\\)$`,
      ),
    );
  });
});
