import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startConnectProxy } from '../support/connect-proxy.js';
import { pushImage } from '../support/images.js';
import { startRegistry } from '../support/registry.js';
import { assertSameImage } from '../support/skopeo.js';
import { integrationSuite } from '../support/tools.js';
import { additionalImages, describeRun, ocMirror, sandbox, writeIsc } from './m2m-helpers.js';

describe('HTTP(S)_PROXY and NO_PROXY', integrationSuite(), () => {
  test('registry traffic goes through the proxy unless NO_PROXY names the host', async (t) => {
    const src = await startRegistry({}, t);
    const dest = await startRegistry({ tls: true }, t);
    const proxy = await startConnectProxy(t);
    const image = await pushImage(src, 'via/proxy', 'v1', { layers: [{ size: 50_000 }] });
    const box = sandbox();
    const isc = writeIsc(box, 'isc.yaml', additionalImages([image.reference]));
    const args = ['-c', isc, '--workspace', `file://${box.dir}/ws`, `docker://${dest.host}/p`, '--src-tls-verify=false', '--dest-cert-dir', dest.certDir!];

    const proxied = await ocMirror(box, args, { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: '' });
    assert.equal(proxied.code, 0, describeRun(proxied));
    assert.ok(proxy.tunnels.includes(src.host), `source through the proxy: ${proxy.tunnels.join(' ')}`);
    assert.ok(proxy.tunnels.includes(dest.host), `TLS destination through the proxy: ${proxy.tunnels.join(' ')}`);
    await assertSameImage(image.reference, `${dest.host}/p/via/proxy:v1`, { src, dest });

    proxy.tunnels.length = 0;
    const direct = await ocMirror(box, [...args.slice(0, 4), `docker://${dest.host}/q`, ...args.slice(5)], {
      HTTP_PROXY: proxy.url,
      HTTPS_PROXY: proxy.url,
      NO_PROXY: '127.0.0.1',
    });
    assert.equal(direct.code, 0, describeRun(direct));
    assert.deepEqual(proxy.tunnels, [], 'NO_PROXY bypasses the proxy');
  });
});
