import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseChallenge } from '../../src/registry/challenge.js';
import { authFileCandidates, credentialLookup } from '../../src/registry/credentials.js';

test('challenges: Bearer with quoted values containing commas, and Basic', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"'), {
    scheme: 'bearer',
    params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull,push' },
  });
  assert.deepEqual(parseChallenge('Basic realm="basic-realm"'), { scheme: 'basic', params: { realm: 'basic-realm' } });
  assert.equal(parseChallenge(undefined), undefined);
});

function authFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'auth-'));
  const path = join(dir, 'auth.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('credentials: the longest matching path wins, docker.io keys are normalised', async () => {
  const path = authFile({
    auths: {
      'quay.io': { auth: b64('org:orgpass') },
      'quay.io/team/app': { auth: b64('team:teampass') },
      'https://index.docker.io/v1/': { auth: b64('hub:hubpass') },
      'registry.example.com:5000': { username: 'u', password: 'p:with:colons' },
    },
  });
  const lookup = credentialLookup(path, {});
  assert.deepEqual(await lookup('quay.io', 'team/app'), { username: 'team', password: 'teampass' });
  assert.deepEqual(await lookup('quay.io', 'team/other'), { username: 'org', password: 'orgpass' });
  assert.deepEqual(await lookup('docker.io', 'library/nginx'), { username: 'hub', password: 'hubpass' });
  assert.deepEqual(await lookup('registry.example.com:5000', 'x'), { username: 'u', password: 'p:with:colons' });
  assert.equal(await lookup('ghcr.io', 'x'), undefined);
});

test('credentials: an explicit authfile that is missing or malformed is an error that shows no content', () => {
  assert.throws(() => credentialLookup('/nonexistent/auth.json', {}), /authfile \/nonexistent\/auth.json: cannot be read/);
  const dir = mkdtempSync(join(tmpdir(), 'auth-'));
  writeFileSync(join(dir, 'bad.json'), '{"auths": {"x": {"auth": "c2VjcmV0"}');
  assert.throws(
    () => credentialLookup(join(dir, 'bad.json'), {}),
    (e: Error) => /is not valid JSON/.test(e.message) && !e.message.includes('c2VjcmV0'),
  );
});

test('credentials: default file order follows containers/image', () => {
  assert.deepEqual(authFileCandidates(undefined, { HOME: '/h', XDG_RUNTIME_DIR: '/run/u' }), [
    '/run/u/containers/auth.json',
    '/h/.config/containers/auth.json',
    '/h/.docker/config.json',
  ]);
  assert.deepEqual(authFileCandidates(undefined, { HOME: '/h', REGISTRY_AUTH_FILE: '/a.json' }), ['/a.json']);
  assert.deepEqual(authFileCandidates('/b.json', { REGISTRY_AUTH_FILE: '/a.json' }), ['/b.json']);
});
