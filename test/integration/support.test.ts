/**
 * Proves the integration test world itself (test/support): registries in every auth/TLS mode,
 * the independent pusher, skopeo as the checker, the token server, the CLI runner and the
 * skip-or-fail rule. If these pass, a failing integration test points at the product, not at the
 * harness.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { integrationSuite, integrationAvailable } from '../support/tools.js';
import { freePort } from '../support/ports.js';
import { startRegistry, writeAuthFile, type TestRegistry } from '../support/registry.js';
import { clientFor, layerInfo, layerStream, MediaTypes, pushArtifact, pushImage } from '../support/images.js';
import { accessFlags, assertSameImage, copyImage, inspectRaw, listTags, skopeo } from '../support/skopeo.js';
import { REPO_ROOT, runNodeScript, tempDir } from '../support/cli.js';
import { parseScope } from '../support/token-server.js';

interface InspectJson {
  Digest: string;
  Layers: string[];
  Architecture: string;
}

async function inspectJson(ref: string, reg: TestRegistry): Promise<InspectJson> {
  const r = await skopeo(['inspect', ...accessFlags(reg), `docker://${ref}`]);
  return JSON.parse(r.stdout.toString('utf8')) as InspectJson;
}

describe('test world: plumbing without tools', () => {
  it('freePort gives distinct usable loopback ports', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    for (const p of ports) assert.ok(p > 0 && p < 65536);
    assert.equal(new Set(ports).size, ports.length);
  });

  it('tempDir is removed after the test', async (t) => {
    let dir = '';
    await t.test('inner', (t2) => {
      dir = tempDir(t2);
      writeFileSync(join(dir, 'x'), 'y');
      assert.ok(existsSync(dir));
    });
    assert.equal(existsSync(dir), false);
  });

  it('layers are deterministic per (seed, size) and stream exactly what was digested', async () => {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of layerStream('a', 200_000)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    assert.deepEqual({ digest: `sha256:${hash.digest('hex')}`, size }, { digest: layerInfo('a', 200_000).digest, size: layerInfo('a', 200_000).size });
    assert.deepEqual(layerInfo('a', 5000), layerInfo('a', 5000));
    assert.notEqual(layerInfo('a', 5000).digest, layerInfo('b', 5000).digest);
    assert.notEqual(layerInfo('a', 5000).digest, layerInfo('a', 5001).digest);
  });

  it('parses token scopes', () => {
    assert.deepEqual(parseScope('repository:ns/app:pull,push'), { type: 'repository', name: 'ns/app', actions: ['pull', 'push'] });
    assert.deepEqual(parseScope('registry:catalog:*'), { type: 'registry', name: 'catalog', actions: ['*'] });
    assert.deepEqual(parseScope('repository(plugin):x:pull'), { type: 'repository', name: 'x', actions: ['pull'] });
  });

  it('runNodeScript passes args, env, stdin and exit code, and enforces its timeout', async (t) => {
    const dir = tempDir(t);
    const script = join(dir, 'echo.mjs');
    writeFileSync(
      script,
      `let input = '';
       process.stdin.on('data', (d) => (input += d));
       process.stdin.on('end', () => {
         console.log(JSON.stringify({ args: process.argv.slice(2), foo: process.env.FOO, gone: process.env.GONE ?? null, input, cwd: process.cwd() }));
         console.error('to stderr');
         if (process.argv[2] === 'hang') setTimeout(() => {}, 60000); else process.exit(3);
       });`,
    );
    const r = await runNodeScript(script, ['a', 'b c'], { env: { FOO: 'bar', GONE: undefined }, input: 'hello', cwd: dir });
    assert.equal(r.code, 3);
    assert.equal(r.stderr.trim(), 'to stderr');
    assert.deepEqual(JSON.parse(r.stdout), { args: ['a', 'b c'], foo: 'bar', gone: null, input: 'hello', cwd: dir });
    const hung = await runNodeScript(script, ['hang'], { timeoutMs: 300 });
    assert.equal(hung.timedOut, true);
    assert.equal(hung.signal, 'SIGKILL');
  });
});

describe('test world: skip-or-fail rule', () => {
  const probe = resolve(REPO_ROOT, 'test/support/fixtures/skip-probe.ts');
  // a PATH where no tool can be found; node itself is run by absolute path
  const noTools = { PATH: '/nonexistent', CI: undefined, OCM_TEST_REGISTRY_BIN: undefined, OCM_TEST_SKOPEO_BIN: undefined };

  it('skips with a single visible notice when tools are missing outside CI', async () => {
    const r = await runNodeScript(probe, [], { env: noTools, cwd: REPO_ROOT, nodeArgs: ['--import', 'tsx'] });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /PROBE-RAN/);
    assert.match(r.stdout, /# skipped 2/);
    assert.equal(r.stderr.match(/integration tests SKIPPED/g)?.length, 1, r.stderr);
  });

  it('fails under CI=true when tools are missing', async () => {
    const r = await runNodeScript(probe, [], { env: { ...noTools, CI: 'true' }, cwd: REPO_ROOT, nodeArgs: ['--import', 'tsx'] });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /missing under CI=true/);
  });
});

describe('test world: registries, pushers and skopeo', integrationSuite(), () => {
  it('finds the tools', () => {
    assert.equal(integrationAvailable().ok, true);
  });

  it('plain registry: pushed image reads back byte-for-byte through skopeo', async (t) => {
    const reg = await startRegistry({}, t);
    assert.match(reg.host, /^127\.0\.0\.1:\d+$/);
    assert.equal(reg.url, `http://${reg.host}`);
    const img = await pushImage(reg, 'plain/app', 'v1', { layers: [{ size: 2048 }, { size: 300_000 }] });
    assert.equal(img.reference, `${reg.host}/plain/app:v1`);
    assert.equal(img.mediaType, MediaTypes.ociManifest);
    assert.ok((await inspectRaw(img.reference, reg)).equals(img.manifest));
    const info = await inspectJson(img.reference, reg);
    assert.equal(info.Digest, img.digest);
    assert.deepEqual(info.Layers, img.layers?.map((l) => l.digest));
    assert.deepEqual(await listTags(`${reg.host}/plain/app`, reg), ['v1']);
    // the config skopeo reads is the one we wrote, and it names our layers' diff_ids
    const config = JSON.parse((await skopeo(['inspect', '--config', '--raw', ...accessFlags(reg), `docker://${img.reference}`])).stdout.toString()) as {
      rootfs: { diff_ids: string[] };
    };
    assert.equal(config.rootfs.diff_ids.length, 2);

    // an untagged push is reachable by digest only
    const untagged = await pushImage(reg, 'plain/app', null, { seed: 'untagged' });
    assert.equal(untagged.reference, `${reg.host}/plain/app@${untagged.digest}`);
    assert.ok((await inspectRaw(untagged.reference, reg)).equals(untagged.manifest));
    assert.deepEqual(await listTags(`${reg.host}/plain/app`, reg), ['v1']);
  });

  for (const format of ['oci', 'docker'] as const) {
    it(`multi-arch ${format}: index and every child read back identically`, async (t) => {
      const reg = await startRegistry({}, t);
      const platforms = [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
        { os: 'linux', architecture: 's390x' },
      ];
      const img = await pushImage(reg, `multi/${format}`, 'latest', { format, platforms, layers: [{ size: 4096 }] });
      assert.equal(img.mediaType, format === 'oci' ? MediaTypes.ociIndex : MediaTypes.dockerList);
      assert.equal(img.children?.length, 3);
      assert.ok((await inspectRaw(img.reference, reg)).equals(img.manifest));
      const index = JSON.parse(img.manifest.toString()) as { manifests: { digest: string; platform: unknown }[] };
      assert.deepEqual(index.manifests.map((m) => m.platform), platforms);
      for (const child of img.children ?? []) {
        assert.equal(child.mediaType, format === 'oci' ? MediaTypes.ociManifest : MediaTypes.dockerManifest);
        assert.ok((await inspectRaw(child.digestReference, reg)).equals(child.manifest), child.digestReference);
      }
      // 3 configs + 3 distinct layers (each platform has its own layer)
      assert.equal(img.blobs.length, 6);
      await assertSameImage(img.reference, img.reference, { src: reg, dest: reg });
    });
  }

  it('a layer with the same seed and size is shared between images', async (t) => {
    const reg = await startRegistry({}, t);
    const base = { size: 100_000, seed: 'shared-base' };
    const a = await pushImage(reg, 'shared/a', 'v1', { layers: [base, { size: 1000 }] });
    const b = await pushImage(reg, 'shared/b', 'v1', { format: 'docker', layers: [base, { size: 1000 }] });
    assert.equal(a.layers?.[0]?.digest, b.layers?.[0]?.digest);
    assert.notEqual(a.layers?.[1]?.digest, b.layers?.[1]?.digest);
    assert.notEqual(a.config?.digest, b.config?.digest);
    const [ia, ib] = await Promise.all([inspectJson(a.reference, reg), inspectJson(b.reference, reg)]);
    assert.equal(ia.Layers[0], ib.Layers[0]);
    // the shared blob is linked into both repositories
    await assertSameImage(b.reference, b.reference, { src: reg, dest: reg });
  });

  it('a cosign-style signature artifact passes through skopeo', async (t) => {
    const reg = await startRegistry({}, t);
    const img = await pushImage(reg, 'signed/app', 'v1');
    const sig = await pushArtifact(reg, 'signed/app', { signs: img.digest });
    assert.equal(sig.tag, `${img.digest.replace(':', '-')}.sig`);
    assert.deepEqual((await listTags(`${reg.host}/signed/app`, reg)).sort(), [sig.tag, 'v1'].sort());
    const raw = await inspectRaw(sig.reference, reg);
    assert.ok(raw.equals(sig.manifest));
    const m = JSON.parse(raw.toString()) as { layers: { mediaType: string }[] };
    assert.equal(m.layers[0]?.mediaType, MediaTypes.cosignSimpleSigning);
    const dest = await startRegistry({}, t);
    await copyImage(sig.reference, `${dest.host}/signed/app:${sig.tag}`, { src: reg, dest });
    await assertSameImage(sig.reference, `${dest.host}/signed/app:${sig.tag}`, { src: reg, dest });
  });

  it('htpasswd registry: refuses anonymous, accepts the auth file', async (t) => {
    const reg = await startRegistry({ auth: 'htpasswd' }, t);
    assert.ok(reg.username && reg.password && reg.authFile);
    const auth = JSON.parse(readFileSync(reg.authFile, 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(auth.auths[reg.host]!.auth, 'base64').toString(), `${reg.username}:${reg.password}`);

    const img = await pushImage(reg, 'private/app', 'v1');
    const anon = await skopeo(['inspect', '--raw', ...accessFlags({ tlsVerify: false }), `docker://${img.reference}`], { allowFailure: true });
    assert.notEqual(anon.code, 0);
    assert.match(anon.stderr, /unauthorized|authentication required/i);

    const wrong = join(tempDir(t), 'wrong.json');
    writeAuthFile(wrong, reg.host, { username: reg.username, password: 'not-the-password' });
    const bad = await skopeo(['inspect', '--raw', ...accessFlags({ tlsVerify: false, authFile: wrong }), `docker://${img.reference}`], { allowFailure: true });
    assert.notEqual(bad.code, 0);

    assert.ok((await inspectRaw(img.reference, reg)).equals(img.manifest));
    // the pusher must fail without credentials too
    await assert.rejects(pushImage({ url: reg.url, host: reg.host }, 'private/other', 'v1'), /HTTP 401/);
  });

  it('token registry: skopeo and the pusher get per-repository tokens; mounts need both scopes', async (t) => {
    const reg = await startRegistry({ auth: 'token' }, t);
    const ts = reg.tokenServer;
    assert.ok(ts && reg.authFile);
    const img = await pushImage(reg, 'tok/app', 'v1', { layers: [{ size: 5000 }] });
    assert.ok(ts.hasRequested('repository:tok/app:push,pull'), ts.scopesRequested().join(' '));
    assert.equal(ts.hasRequested('repository:tok/other:pull'), false);

    ts.clearRequests();
    assert.ok((await inspectRaw(img.reference, reg)).equals(img.manifest));
    assert.deepEqual(ts.requests.map((r) => [r.username, r.scopes]), [[reg.username, ['repository:tok/app:pull']]]);

    const anon = await skopeo(['inspect', '--raw', ...accessFlags({ tlsVerify: false }), `docker://${img.reference}`], { allowFailure: true });
    assert.notEqual(anon.code, 0);
    assert.ok(ts.requests.some((r) => r.username === undefined && r.granted.length === 0));

    // a cross-repository mount, as a mirroring client does it: one token for two scopes
    const realm = new URL(ts.realm);
    realm.searchParams.set('service', ts.service);
    realm.searchParams.append('scope', 'repository:tok/mounted:pull,push');
    realm.searchParams.append('scope', 'repository:tok/app:pull');
    const basic = `Basic ${Buffer.from(`${reg.username}:${reg.password}`).toString('base64')}`;
    const tokenRes = await fetch(realm, { headers: { authorization: basic } });
    assert.equal(tokenRes.status, 200);
    const body = (await tokenRes.json()) as { token: string; access_token: string; expires_in: number; issued_at: string };
    assert.equal(body.token, body.access_token);
    assert.equal(body.expires_in, 300);
    assert.ok(!Number.isNaN(Date.parse(body.issued_at)));
    const record = ts.requests.at(-1)!;
    assert.deepEqual(record.scopes, ['repository:tok/mounted:pull,push', 'repository:tok/app:pull']);
    assert.deepEqual(record.granted, [
      { type: 'repository', name: 'tok/mounted', actions: ['pull', 'push'] },
      { type: 'repository', name: 'tok/app', actions: ['pull'] },
    ]);
    const layer = img.layers![0]!;
    const mount = await fetch(`${reg.url}/v2/tok/mounted/blobs/uploads/?mount=${layer.digest}&from=tok/app`, {
      method: 'POST',
      headers: { authorization: `Bearer ${body.token}` },
    });
    assert.equal(mount.status, 201, await mount.text());

    // bad credentials are refused by the token server itself
    const refused = await fetch(realm, { headers: { authorization: `Basic ${Buffer.from(`${reg.username}:nope`).toString('base64')}` } });
    assert.equal(refused.status, 401);
  });

  it('token registry: short-lived tokens really expire at the registry', async (t) => {
    const reg = await startRegistry({ auth: 'token', token: { expiresIn: 1, anonymousPull: true } }, t);
    const ts = reg.tokenServer!;
    await pushImage(reg, 'tok/short', 'v1'); // works: the pusher gets fresh tokens
    const realm = `${ts.realm}?service=${ts.service}&scope=repository:tok/short:pull`;
    const { token, expires_in } = (await (await fetch(realm)).json()) as { token: string; expires_in: number };
    assert.equal(expires_in, 1);
    assert.deepEqual(ts.requests.at(-1)?.granted, [{ type: 'repository', name: 'tok/short', actions: ['pull'] }]);
    const get = () => fetch(`${reg.url}/v2/tok/short/manifests/v1`, { headers: { authorization: `Bearer ${token}`, accept: MediaTypes.ociManifest } });
    assert.equal((await get()).status, 200);
    // claims are whole seconds: the token dies between 1 and 2 s after it was issued
    const deadline = Date.now() + 3000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      await sleep(100);
      status = (await get()).status;
    }
    assert.equal(status, 401);
    ts.expiresIn = 300;
    const fresh = (await (await fetch(realm)).json()) as { expires_in: number };
    assert.equal(fresh.expires_in, 300);
  });

  it('TLS registry: refused without trust, accepted with --cert-dir or --tls-verify=false', async (t) => {
    const reg = await startRegistry({ tls: true }, t);
    assert.equal(reg.url, `https://${reg.host}`);
    assert.ok(reg.caCertPath && reg.certDir);
    assert.deepEqual(readdirSync(reg.certDir), ['ca.crt']);
    const img = await pushImage(reg, 'secure/app', 'v1');
    const untrusted = await skopeo(['inspect', '--raw', ...accessFlags({ tlsVerify: true }), `docker://${img.reference}`], { allowFailure: true });
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.stderr, /x509|certificate/i);
    assert.ok((await inspectRaw(img.reference, { tlsVerify: true, certDir: reg.certDir })).equals(img.manifest));
    assert.ok((await inspectRaw(img.reference, { tlsVerify: false })).equals(img.manifest));
  });

  it('TLS + htpasswd + token combinations push and read back', async (t) => {
    const [a, b] = await Promise.all([startRegistry({ tls: true, auth: 'htpasswd' }, t), startRegistry({ tls: true, auth: 'token' }, t)]);
    for (const reg of [a, b]) {
      const img = await pushImage(reg, 'combo/app', 'v1');
      assert.ok((await inspectRaw(img.reference, reg)).equals(img.manifest), reg.url);
    }
  });

  it('assertSameImage: passes for a skopeo copy, fails for another image or a missing blob', async (t) => {
    const [src, dest] = await Promise.all([startRegistry({}, t), startRegistry({ tls: true, auth: 'htpasswd' }, t)]);
    const platforms = [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'ppc64le' },
    ];
    const oci = await pushImage(src, 'copy/oci', 'v1', { platforms, layers: [{ size: 50_000 }, { size: 1000, seed: 'common' }] });
    const docker = await pushImage(src, 'copy/docker', 'v1', { format: 'docker', platforms });
    for (const img of [oci, docker]) {
      const target = `${dest.host}/${img.repo}:v1`;
      await copyImage(img.reference, target, { src, dest });
      await assertSameImage(img.reference, target, { src, dest });
    }

    // a different image under the same name
    const other = await pushImage(src, 'copy/other', 'v1', { platforms, seed: 'something else' });
    await assert.rejects(assertSameImage(other.reference, `${dest.host}/copy/oci:v1`, { src, dest }), (err: Error) => {
      assert.match(err.message, /manifests differ/);
      assert.match(err.message, /first difference at byte/);
      return true;
    });
    // a single image against an index
    await assert.rejects(assertSameImage(oci.children![0]!.digestReference, `${dest.host}/copy/oci:v1`, { src, dest }), /manifests differ/);

    // identical manifests, but a layer deleted at the destination
    const victim = oci.children![1]!.layers![0]!;
    const del = await clientFor(dest).request('DELETE', `/v2/copy/oci/blobs/${victim.digest}`, { repo: 'copy/oci' });
    assert.equal(del.status, 202, del.body.toString());
    await assert.rejects(assertSameImage(oci.reference, `${dest.host}/copy/oci:v1`, { src, dest }), (err: Error) => {
      assert.match(err.message, /copying the destination image .* failed/);
      return true;
    });
  });

  it('serves an existing storage directory and cleans up after stop', async (t) => {
    const storage = tempDir(t);
    const first = await startRegistry({ rootDir: storage });
    const img = await pushImage(first, 'kept/app', 'v1');
    await first.stop();
    await first.stop(); // idempotent
    await assert.rejects(fetch(`${first.url}/v2/`));
    assert.ok(existsSync(join(storage, 'docker/registry/v2/repositories/kept/app')));
    const second = await startRegistry({ rootDir: storage, deleteEnabled: false }, t);
    assert.ok((await inspectRaw(`${second.host}/kept/app:v1`, second)).equals(img.manifest));
    const del = await clientFor(second).request('DELETE', `/v2/kept/app/manifests/${img.digest}`, { repo: 'kept/app' });
    assert.equal(del.status, 405);
    assert.match(second.logs(), /GET \/v2\//);
    const readOnly = await startRegistry({ rootDir: storage, readOnly: true }, t);
    assert.ok((await inspectRaw(`${readOnly.host}/kept/app:v1`, readOnly)).equals(img.manifest));
    await assert.rejects(pushImage(readOnly, 'kept/other', 'v1'), /HTTP 405/);
  });
});

// keep a handle on suite-level cleanup working as documented: `{ after }` is a Hookable
describe('test world: suite-level tempDir', () => {
  const dir = tempDir({ after });
  it('exists during the suite', () => {
    assert.ok(existsSync(dir));
  });
});
