import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pushImage, type PushedImage } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { assertSameImage } from '../support/skopeo.js';
import { integrationSuite } from '../support/tools.js';
import { additionalImages, catalog, describeRun, ocMirror, sandbox, writeIsc } from './m2m-helpers.js';

function authJson(path: string, regs: TestRegistry[], override?: { password: string }): string {
  const auths: Record<string, { auth: string }> = {};
  for (const r of regs) auths[r.host] = { auth: Buffer.from(`${r.username}:${override?.password ?? r.password}`).toString('base64') };
  writeFileSync(path, JSON.stringify({ auths }));
  return path;
}

describe('registry authentication and TLS', integrationSuite(), () => {
  let src: TestRegistry;
  let image: PushedImage;

  before(async () => {
    src = await startRegistry();
    image = await pushImage(src, 'team/app', 'v1', { layers: [{ size: 200_000, seed: 'shared' }, { size: 10_000 }] });
  });
  after(async () => {
    await src?.stop();
  });

  test('Basic auth (htpasswd): refused without or with wrong credentials, nothing pushed; works with the authfile', async (t) => {
    const dest = await startRegistry({ auth: 'htpasswd' }, t);
    const box = sandbox();
    const isc = writeIsc(box, 'isc.yaml', additionalImages([image.reference]));
    const base = ['-c', isc, '--workspace', `file://${box.dir}/ws`, `docker://${dest.host}/m`, '--src-tls-verify=false', '--dest-tls-verify=false'];

    const anonymous = await ocMirror(box, base);
    assert.equal(anonymous.code, 1, describeRun(anonymous));
    assert.match(anonymous.stderr, new RegExp(`^error: checking registry "${dest.host}" access: .*no credentials found for ${dest.host}`));
    assert.equal(anonymous.stderr.trim().split('\n').length, 1, 'one line');

    const wrong = await ocMirror(box, [...base, '--authfile', authJson(join(box.dir, 'wrong.json'), [dest], { password: 'not-it' })]);
    assert.equal(wrong.code, 1, describeRun(wrong));
    assert.match(wrong.stderr, /credentials were rejected/);
    assert.doesNotMatch(wrong.stderr + wrong.stdout, /not-it/, 'no secret in the output');
    assert.deepEqual(await catalog(dest), []);

    const ok = await ocMirror(box, [...base, '--authfile', authJson(join(box.dir, 'auth.json'), [dest])]);
    assert.equal(ok.code, 0, describeRun(ok));
    await assertSameImage(image.reference, `${dest.host}/m/team/app:v1`, { src, dest });
    assert.doesNotMatch(ok.stdout + ok.stderr, new RegExp(dest.password!), 'no secret in the output');
  });

  test('Bearer tokens: per-repository scopes, the mount source scope, refresh of short-lived tokens', async (t) => {
    const tokenSrc = await startRegistry({ auth: 'token' }, t);
    const dest = await startRegistry({ auth: 'token', token: { expiresIn: 2 } }, t);
    const a = await pushImage(tokenSrc, 'org/a', 'v1', { layers: [{ size: 150_000, seed: 'common' }, { size: 1000 }] });
    const b = await pushImage(tokenSrc, 'org/b', 'v1', { layers: [{ size: 150_000, seed: 'common' }, { size: 2000 }] });
    tokenSrc.tokenServer!.clearRequests();
    const box = sandbox();
    const authfile = authJson(join(box.dir, 'auth.json'), [tokenSrc, dest]);
    const isc = writeIsc(box, 'isc.yaml', additionalImages([a.reference, b.reference]));
    const r = await ocMirror(box, [
      '-c', isc, '--workspace', `file://${box.dir}/ws`, `docker://${dest.host}/mirror`,
      '--src-tls-verify=false', '--dest-tls-verify=false', '--authfile', authfile, '--parallel-images', '1',
    ]);
    assert.equal(r.code, 0, describeRun(r));
    await assertSameImage(a.reference, `${dest.host}/mirror/org/a:v1`, { src: tokenSrc, dest });
    await assertSameImage(b.reference, `${dest.host}/mirror/org/b:v1`, { src: tokenSrc, dest });
    assert.ok(tokenSrc.tokenServer!.hasRequested('repository:org/a:pull'), tokenSrc.tokenServer!.scopesRequested().join(' '));
    assert.ok(dest.tokenServer!.hasRequested('repository:mirror/org/a:pull,push'), dest.tokenServer!.scopesRequested().join(' '));
    assert.ok(
      dest.tokenServer!.hasRequested('repository:mirror/org/a:pull') && dest.tokenServer!.requests.some((q) => q.scopes.length >= 2),
      `the shared layer is mounted from mirror/org/a: ${dest.tokenServer!.scopesRequested().join(' ')}`,
    );
    assert.ok(!tokenSrc.tokenServer!.requests.some((q) => q.scopes.some((s) => s.includes('push'))), 'sources are only pulled from');
  });

  test('TLS with a self-signed CA: refused without trust, accepted with --dest-cert-dir or --dest-tls-verify=false', async (t) => {
    const dest = await startRegistry({ tls: true }, t);
    const box = sandbox();
    const isc = writeIsc(box, 'isc.yaml', additionalImages([image.reference]));
    const base = ['-c', isc, '--workspace', `file://${box.dir}/ws`, `docker://${dest.host}/tls`, '--src-tls-verify=false'];

    const untrusted = await ocMirror(box, base);
    assert.equal(untrusted.code, 1, describeRun(untrusted));
    assert.match(untrusted.stderr, /TLS certificate not trusted/);
    assert.deepEqual(await catalog(dest).catch(() => []), []);

    const withCa = await ocMirror(box, [...base, '--dest-cert-dir', dest.certDir!]);
    assert.equal(withCa.code, 0, describeRun(withCa));
    await assertSameImage(image.reference, `${dest.host}/tls/team/app:v1`, { src, dest });

    const insecure = await ocMirror(box, [...base.slice(0, 4), `docker://${dest.host}/insecure`, '--src-tls-verify=false', '--dest-tls-verify=false']);
    assert.equal(insecure.code, 0, describeRun(insecure));
    await assertSameImage(image.reference, `${dest.host}/insecure/team/app:v1`, { src, dest });
  });

  test('a plain-HTTP registry is refused while TLS verification is on', async (t) => {
    const dest = await startRegistry({}, t);
    const box = sandbox();
    const isc = writeIsc(box, 'isc.yaml', additionalImages([image.reference]));
    const r = await ocMirror(box, ['-c', isc, '--workspace', `file://${box.dir}/ws`, `docker://${dest.host}`, '--src-tls-verify=false']);
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, /does not speak TLS.*--dest-tls-verify=false/);
  });
});
