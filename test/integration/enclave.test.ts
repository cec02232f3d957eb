import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pushImage } from '../support/images.js';
import { startRegistry } from '../support/registry.js';
import { assertSameImage, inspectRaw } from '../support/skopeo.js';
import { integrationSuite } from '../support/tools.js';
import { additionalImages, describeRun, ocMirror, sandbox, writeIsc } from './m2m-helpers.js';

/**
 * The enclave flow of the oc-mirror documentation: the configuration always names
 * registry.redhat.io; registries.conf decides where the bytes come from on each side.
 *   internet → disk → enterprise registry → (registries.conf) → disk → enclave registry
 */
describe('enclaves through registries.conf', integrationSuite(), () => {
  test('internet → disk → enterprise registry → disk → enclave registry, names preserved', async (t) => {
    const internet = await startRegistry({}, t);
    const enterprise = await startRegistry({}, t);
    const enclave = await startRegistry({}, t);
    const single = await pushImage(internet, 'ubi9/ubi', '9.4', { layers: [{ size: 120_000, seed: 'ubi-base' }, { size: 30_000 }] });
    const multi = await pushImage(internet, 'rhel9/support-tools', 'latest', {
      platforms: [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }],
      layers: [{ size: 120_000, seed: 'ubi-base' }],
    });
    const box = sandbox();
    const isc = writeIsc(box, 'isc.yaml', additionalImages(['registry.redhat.io/ubi9/ubi:9.4', 'registry.redhat.io/rhel9/support-tools:latest']));
    const conf = (name: string, location: string) => {
      const path = join(box.dir, name);
      writeFileSync(path, `[[registry]]\nprefix = "registry.redhat.io"\nlocation = "${location}"\ninsecure = true\n`);
      return path;
    };
    // The "internet" stands in for registry.redhat.io, which this machine cannot reach.
    const internetConf = conf('internet.conf', internet.host);
    const enterpriseConf = conf('enterprise.conf', `${enterprise.host}/redhat`);

    const first = await ocMirror(box, ['-c', isc, `file://${box.dir}/disk1`, '--cache-dir', join(box.dir, 'cache-internet')], {
      CONTAINERS_REGISTRIES_CONF: internetConf,
    });
    assert.equal(first.code, 0, describeRun(first));
    assert.match(first.stdout, /registries\.conf: .*internet\.conf/);

    const intoEnterprise = await ocMirror(box, [
      '-c', isc, '--from', `file://${box.dir}/disk1`, `docker://${enterprise.host}/redhat`,
      '--dest-tls-verify=false', '--cache-dir', join(box.dir, 'cache-enterprise-d2m'),
    ]);
    assert.equal(intoEnterprise.code, 0, describeRun(intoEnterprise));

    // Inside the enterprise: the same config, pulled from the enterprise registry.
    const second = await ocMirror(box, ['-c', isc, `file://${box.dir}/disk2`, '--cache-dir', join(box.dir, 'cache-enterprise')], {
      CONTAINERS_REGISTRIES_CONF: enterpriseConf,
    });
    assert.equal(second.code, 0, describeRun(second));
    internet.stop();

    const intoEnclave = await ocMirror(box, [
      '-c', isc, '--from', `file://${box.dir}/disk2`, `docker://${enclave.host}/mirror`,
      '--dest-tls-verify=false', '--cache-dir', join(box.dir, 'cache-enclave'),
    ]);
    assert.equal(intoEnclave.code, 0, describeRun(intoEnclave));
    await assertSameImage(`${enterprise.host}/redhat/ubi9/ubi:9.4`, `${enclave.host}/mirror/ubi9/ubi:9.4`, { src: enterprise, dest: enclave });
    await assertSameImage(`${enterprise.host}/redhat/rhel9/support-tools:latest`, `${enclave.host}/mirror/rhel9/support-tools:latest`, { src: enterprise, dest: enclave });
    assert.ok((await inspectRaw(`${enclave.host}/mirror/ubi9/ubi:9.4`, enclave)).equals(single.manifest), 'the enclave has the internet bytes');
    assert.ok((await inspectRaw(`${enclave.host}/mirror/rhel9/support-tools:latest`, enclave)).equals(multi.manifest));
    const itms = readFileSync(join(box.dir, 'disk2', 'working-dir', 'cluster-resources', 'itms-oc-mirror.yaml'), 'utf8');
    assert.match(itms, /source: registry\.redhat\.io\/ubi9/, 'cluster resources keep the registry.redhat.io names');
  });
});
