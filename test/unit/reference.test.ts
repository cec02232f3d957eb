import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReference, parseReference, parseRegistryLocation, pullReference } from '../../src/image/reference.js';
import { digestTag } from '../../src/image/digest.js';

const D = 'sha256:' + 'ab'.repeat(32);

test('references normalise like docker and keep ports apart from tags', () => {
  const cases: [string, string, string, string | undefined, string | undefined][] = [
    ['nginx:1.25', 'docker.io', 'library/nginx', '1.25', undefined],
    ['docker.io/nginx:1', 'docker.io', 'library/nginx', '1', undefined],
    ['index.docker.io/bitnami/redis:7', 'docker.io', 'bitnami/redis', '7', undefined],
    ['ubi8/ubi:latest', 'docker.io', 'ubi8/ubi', 'latest', undefined],
    ['registry.redhat.io/ubi9/ubi:9.4', 'registry.redhat.io', 'ubi9/ubi', '9.4', undefined],
    ['localhost/app:v1', 'localhost', 'app', 'v1', undefined],
    ['127.0.0.1:5000/ns/app:v1', '127.0.0.1:5000', 'ns/app', 'v1', undefined],
    [`host:5000/ns/img@${D}`, 'host:5000', 'ns/img', undefined, D],
    [`quay.io/a/b:v1@${D}`, 'quay.io', 'a/b', 'v1', D],
    [`docker://quay.io/a/b/c/d:tag`, 'quay.io', 'a/b/c/d', 'tag', undefined],
    ['[::1]:5000/x:1', '[::1]:5000', 'x', '1', undefined],
  ];
  for (const [input, registry, repository, tag, digest] of cases) {
    const r = parseReference(input);
    assert.equal(r.registry, registry, input);
    assert.equal(r.repository, repository, input);
    assert.equal(r.tag, tag, input);
    assert.equal(r.digest, digest, input);
  }
});

test('a digest reference on a registry with a port is digest-only (oc-mirror took it for tag+digest)', () => {
  const r = parseReference(`mirror.example.com:5000/ocp/img@${D}`);
  assert.equal(r.tag, undefined);
  assert.equal(pullReference(r), D);
  assert.equal(formatReference(r), `mirror.example.com:5000/ocp/img@${D}`);
});

test('bad references are refused with the part at fault', () => {
  assert.throws(() => parseReference('quay.io/Upper/case:1'), /not a valid repository path/);
  assert.throws(() => parseReference('quay.io/a/b@sha256:123'), /"sha256:123" is not a valid digest/);
  assert.throws(() => parseReference('quay.io/a/b:bad tag'), /not a valid tag/);
  assert.throws(() => parseReference('oci:///tmp/layout'), /transport "oci:" is not supported/);
  assert.throws(() => parseReference(''), /empty image reference/);
  assert.throws(() => pullReference(parseReference('quay.io/a/b')), /tag and digest are empty/);
});

test('digest-only images take the tag sha256-<hex>', () => {
  assert.equal(digestTag(D), 'sha256-' + 'ab'.repeat(32));
});

test('registry locations keep host, port and prefix', () => {
  assert.deepEqual(parseRegistryLocation('docker://mirror.example.com:5000/ocp'), { registry: 'mirror.example.com:5000', prefix: 'ocp' });
  assert.deepEqual(parseRegistryLocation('docker://localhost:5000'), { registry: 'localhost:5000', prefix: '' });
  assert.deepEqual(parseRegistryLocation('docker://r.io/a/b/'), { registry: 'r.io', prefix: 'a/b' });
  assert.throws(() => parseRegistryLocation('docker://r.io/A'), /not a valid repository path/);
  assert.throws(() => parseRegistryLocation('docker://'), /not a valid registry host/);
});
