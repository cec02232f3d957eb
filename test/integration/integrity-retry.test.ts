import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFaultProxy } from '../support/fault-proxy.js';
import { pushImage, type PushedImage } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { assertSameImage } from '../support/skopeo.js';
import { integrationSuite } from '../support/tools.js';
import { additionalImages, describeRun, exists, ocMirror, sandbox, writeIsc } from './m2m-helpers.js';

const INSECURE = ['--src-tls-verify=false', '--dest-tls-verify=false'];

describe('digest verification and retries', integrationSuite(), () => {
  let src: TestRegistry;
  let image: PushedImage;
  let layerDigest: string;

  before(async () => {
    src = await startRegistry();
    image = await pushImage(src, 'flaky/app', 'v1', { layers: [{ size: 400_000 }] });
    layerDigest = image.layers![0]!.digest;
  });
  after(async () => {
    await src?.stop();
  });

  test('a corrupted blob is refused: the image fails and nothing of it is committed at the destination', async (t) => {
    const proxy = await startFaultProxy(src.host, [{ method: 'GET', path: new RegExp(`/blobs/${layerDigest}`), corrupt: true, times: Infinity }], t);
    const dest = await startRegistry({}, t);
    const box = sandbox();
    const isc = writeIsc(box, 'isc.yaml', additionalImages([`${proxy.host}/flaky/app:v1`]));
    const r = await ocMirror(box, ['-c', isc, '--workspace', `file://${box.dir}/ws`, `docker://${dest.host}`, ...INSECURE]);
    assert.equal(r.code, 8, describeRun(r));
    assert.match(r.stderr, new RegExp(`content has digest sha256:[0-9a-f]{64}, expected ${layerDigest}`));
    assert.equal(await exists(`${dest.host}/flaky/app:v1`, dest), false);
    const head = await fetch(`${dest.url}/v2/flaky/app/blobs/${layerDigest}`, { method: 'HEAD' });
    assert.equal(head.status, 404, 'the corrupt layer was not committed under its digest');
  });

  test('503 and 429 answers are retried (Retry-After honoured) and the copy completes', async (t) => {
    const proxy = await startFaultProxy(
      src.host,
      [
        { method: 'GET', path: /\/manifests\/v1$/, status: 503, times: 2 },
        { method: 'GET', path: new RegExp(`/blobs/${layerDigest}`), status: 429, retryAfter: 1, times: 1 },
      ],
      t,
    );
    const dest = await startRegistry({}, t);
    const box = sandbox();
    const isc = writeIsc(box, 'isc.yaml', additionalImages([`${proxy.host}/flaky/app:v1`]));
    const r = await ocMirror(box, ['-c', isc, '--workspace', `file://${box.dir}/ws`, `docker://${dest.host}`, ...INSECURE, '--retry-delay', '100ms']);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stderr, /retrying .* in 0\.1s .*HTTP 503/);
    assert.match(r.stderr, /retrying .* in 1s .*HTTP 429/, 'Retry-After: 1 outweighs --retry-delay 100ms');
    await assertSameImage(image.reference, `${dest.host}/flaky/app:v1`, { src, dest });
  });

  test('a connection cut mid-blob is retried', async (t) => {
    const proxy = await startFaultProxy(src.host, [{ method: 'GET', path: new RegExp(`/blobs/${layerDigest}`), truncateAfter: 100_000, times: 1 }], t);
    const dest = await startRegistry({}, t);
    const box = sandbox();
    const isc = writeIsc(box, 'isc.yaml', additionalImages([`${proxy.host}/flaky/app:v1`]));
    const r = await ocMirror(box, ['-c', isc, '--workspace', `file://${box.dir}/ws`, `docker://${dest.host}`, ...INSECURE, '--retry-delay', '100ms']);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stderr, /retrying /);
    await assertSameImage(image.reference, `${dest.host}/flaky/app:v1`, { src, dest });
  });

  test('--retry-times bounds the attempts and --image-timeout bounds the image', async (t) => {
    const proxy = await startFaultProxy(src.host, [{ method: 'GET', path: /\/manifests\//, status: 503, times: Infinity }], t);
    const dest = await startRegistry({}, t);
    const box = sandbox();
    const isc = writeIsc(box, 'isc.yaml', additionalImages([`${proxy.host}/flaky/app:v1`]));
    const base = ['-c', isc, '--workspace', `file://${box.dir}/ws`, `docker://${dest.host}`, ...INSECURE];
    const bounded = await ocMirror(box, [...base, '--retry-times', '2', '--retry-delay', '50ms']);
    assert.equal(bounded.code, 8, describeRun(bounded));
    // the presence probe, then one attempt and two retries
    assert.equal(proxy.seen.filter((s) => s.includes('/manifests/')).length, 4, proxy.seen.join('\n'));
    const timed = await ocMirror(box, [...base, '--retry-times', '100', '--retry-delay', '300ms', '--image-timeout', '1s']);
    assert.equal(timed.code, 8, describeRun(timed));
    assert.match(timed.stderr, /timed out after 1s \(--image-timeout\)/);
  });
});
