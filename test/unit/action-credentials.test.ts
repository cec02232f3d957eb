import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { authDocument, removeOnExit, withCredentials, writeAuthfile, type ProcessEvents } from '../../src/action/credentials.js';
import { SecretRegistry } from '../../src/action/secrets.js';
import { UsageError } from '../../src/errors.js';

const scratch = mkdtempSync(join(tmpdir(), 'action-credentials-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function recorder(): { secrets: SecretRegistry; masked: string[] } {
  const masked: string[] = [];
  return { secrets: new SecretRegistry((v) => masked.push(v)), masked };
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

describe('authDocument', () => {
  it('masks the password, user:password and its base64, and builds an auths entry', () => {
    const { secrets, masked } = recorder();
    const doc = authDocument({ registry: 'quay.io', username: 'robot+ci', password: 'pa:ss' }, secrets);
    assert.deepEqual(doc, { auths: { 'quay.io': { auth: b64('robot+ci:pa:ss') } } });
    assert.deepEqual(masked, ['pa:ss', 'robot+ci:pa:ss', b64('robot+ci:pa:ss')]);
  });

  it('masks every secret field of an auth.json, the decoded auth and its password, but not its lines', () => {
    const { secrets, masked } = recorder();
    const text = JSON.stringify(
      {
        auths: {
          'registry.redhat.io': { auth: b64('rh|user:rh-pass') },
          'quay.io/acme': { username: 'acme', password: 'acme-pass' },
          'ghcr.io': { identitytoken: 'id-token' },
        },
        credHelpers: { 'gcr.io': 'gcloud' },
      },
      null,
      2,
    );
    const doc = authDocument({ authJson: text }, secrets);
    assert.equal(Object.keys(doc!.auths).length, 3);
    assert.deepEqual(doc!.credHelpers, { 'gcr.io': 'gcloud' });
    for (const s of [b64('rh|user:rh-pass'), 'rh|user:rh-pass', 'rh-pass', 'acme-pass', 'id-token']) assert.ok(masked.includes(s), s);
    assert.ok(!masked.includes('{') && !masked.includes('}') && !masked.includes('acme'), JSON.stringify(masked));
  });

  it('masks a one-line auth.json whole as well', () => {
    const { secrets, masked } = recorder();
    const text = JSON.stringify({ auths: { 'r.io': { auth: b64('u:p') } } });
    authDocument({ authJson: text }, secrets);
    assert.equal(masked[0], text);
  });

  it('lets registry/username/password replace the auth.json entry of that registry', () => {
    const { secrets } = recorder();
    const doc = authDocument(
      { authJson: JSON.stringify({ auths: { 'r.io': { auth: b64('old:old') }, 'q.io': { auth: b64('q:q') } } }), registry: 'r.io', username: 'new', password: 'new' },
      secrets,
    );
    assert.deepEqual(doc!.auths, { 'r.io': { auth: b64('new:new') }, 'q.io': { auth: b64('q:q') } });
  });

  it('is undefined without credential inputs', () => {
    assert.equal(authDocument({}, recorder().secrets), undefined);
  });

  const secret = 'Sup3r-S3cret-Value';
  const bad: [string, string, RegExp][] = [
    ['not JSON', `{"auths": {"r.io": {"auth": "${secret}"`, /^input "auth-json": is not valid JSON/],
    ['no auths', JSON.stringify({ 'r.io': { auth: secret } }), /^input "auth-json": needs an "auths" object/],
    ['auths not an object', JSON.stringify({ auths: [secret] }), /needs an "auths" object/],
    ['entry not an object', JSON.stringify({ auths: { 'r.io': secret } }), /^input "auth-json": the entry for "r.io" is not an object$/],
    ['auth not user:password', JSON.stringify({ auths: { 'r.io': { auth: b64(secret) } } }), /^input "auth-json": "auth" of "r.io" is not base64 of user:password$/],
    ['password not a string', JSON.stringify({ auths: { 'r.io': { password: 12345678 } } }), /"password" of "r.io" is not a string/],
  ];
  for (const [what, text, expected] of bad) {
    it(`refuses an auth-json with ${what}, without echoing it`, () => {
      assert.throws(
        () => authDocument({ authJson: text }, recorder().secrets),
        (err: unknown) => {
          assert.ok(err instanceof UsageError);
          assert.match(err.message, expected);
          assert.ok(!err.message.includes(secret) && !err.message.includes(b64(secret)) && !err.message.includes(text));
          return true;
        },
      );
    });
  }
});

describe('writeAuthfile', () => {
  it('writes a 0600 file in a fresh 0700 directory under RUNNER_TEMP, removed by dispose', () => {
    const { secrets } = recorder();
    const file = writeAuthfile({ registry: 'r.io', username: 'u', password: 'p' }, { secrets, env: { RUNNER_TEMP: scratch } })!;
    assert.equal(dirname(dirname(file.path)), scratch);
    assert.equal(statSync(file.path).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(file.path)).mode & 0o777, 0o700);
    assert.deepEqual(JSON.parse(readFileSync(file.path, 'utf8')), { auths: { 'r.io': { auth: b64('u:p') } } });
    const other = writeAuthfile({ registry: 'r.io', username: 'u', password: 'p' }, { secrets, env: { RUNNER_TEMP: scratch } })!;
    assert.notEqual(other.path, file.path, 'a unique name per file');
    file.dispose();
    file.dispose();
    other.dispose();
    assert.equal(existsSync(dirname(file.path)), false);
  });

  it('writes nothing without credential inputs', () => {
    assert.equal(writeAuthfile({}, { secrets: recorder().secrets, tempDir: scratch }), undefined);
  });
});

describe('withCredentials', () => {
  const creds = { registry: 'r.io', username: 'u', password: 'p' };

  it('gives fn the path and removes the file when fn returns', async () => {
    let seen = '';
    const result = await withCredentials(creds, { secrets: recorder().secrets, tempDir: scratch }, async (path) => {
      seen = path!;
      assert.ok(existsSync(path!));
      return 42;
    });
    assert.equal(result, 42);
    assert.equal(existsSync(seen), false);
  });

  it('removes the file when fn throws, and rethrows the same error', async () => {
    let seen = '';
    const boom = new Error('engine failed');
    await assert.rejects(
      withCredentials(creds, { secrets: recorder().secrets, tempDir: scratch }, async (path) => {
        seen = path!;
        throw boom;
      }),
      (err) => err === boom,
    );
    assert.equal(existsSync(seen), false);
    assert.equal(existsSync(dirname(seen)), false);
  });

  it('passes undefined when there are no credential inputs', async () => {
    await withCredentials({}, { secrets: recorder().secrets, tempDir: scratch }, async (path) => assert.equal(path, undefined));
  });

  it('leaves no signal or exit handler behind', async () => {
    const before = ['exit', 'SIGINT', 'SIGTERM'].map((e) => process.listenerCount(e));
    await withCredentials(creds, { secrets: recorder().secrets, tempDir: scratch }, async () => {
      assert.deepEqual(['exit', 'SIGINT', 'SIGTERM'].map((e) => process.listenerCount(e)), before.map((n) => n + 1));
    });
    assert.deepEqual(['exit', 'SIGINT', 'SIGTERM'].map((e) => process.listenerCount(e)), before);
  });
});

describe('removeOnExit', () => {
  class FakeProcess extends EventEmitter {
    readonly pid = 4242;
    readonly kills: [number, string][] = [];
    kill(pid: number, signal: string): true {
      this.kills.push([pid, signal]);
      return true;
    }
  }

  function fakeFile(): { file: { path: string; dispose(): void }; disposed: () => number } {
    let n = 0;
    return { file: { path: '/x', dispose: () => void n++ }, disposed: () => n };
  }

  it('on a signal: removes the file, then raises the signal again when nobody else listens', () => {
    const proc = new FakeProcess();
    const { file, disposed } = fakeFile();
    removeOnExit(file, proc as unknown as ProcessEvents);
    proc.emit('SIGTERM', 'SIGTERM');
    assert.equal(disposed(), 1);
    assert.deepEqual(proc.kills, [[4242, 'SIGTERM']]);
    assert.equal(proc.listenerCount('SIGINT'), 0);
    assert.equal(proc.listenerCount('exit'), 0);
  });

  it('on a signal someone else handles: removes the file and leaves stopping to them', () => {
    const proc = new FakeProcess();
    proc.on('SIGINT', () => {});
    const { file, disposed } = fakeFile();
    removeOnExit(file, proc as unknown as ProcessEvents);
    proc.emit('SIGINT', 'SIGINT');
    assert.equal(disposed(), 1);
    assert.deepEqual(proc.kills, []);
  });

  it('on exit: removes the file', () => {
    const proc = new FakeProcess();
    const { file, disposed } = fakeFile();
    removeOnExit(file, proc as unknown as ProcessEvents);
    proc.emit('exit', 0);
    assert.equal(disposed(), 1);
  });
});

describe('withCredentials in a real process', () => {
  const credentialsModule = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/action/credentials.ts');
  const secretsModule = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/action/secrets.ts');

  /** Runs a child that prints the authfile path and then does `then` (wait, or exit). */
  function child(then: string): { path: Promise<string>; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
    const script = join(scratch, `child-${Math.random().toString(36).slice(2)}.mts`);
    writeFileSync(
      script,
      `import { withCredentials } from ${JSON.stringify(credentialsModule)};
import { SecretRegistry } from ${JSON.stringify(secretsModule)};
await withCredentials({ registry: 'r.io', username: 'u', password: 'p' }, { secrets: new SecretRegistry(() => {}), tempDir: ${JSON.stringify(scratch)} }, async (path) => {
  process.stdout.write(path + '\\n');
  ${then}
});
`,
    );
    const proc = spawn(process.execPath, ['--import', 'tsx', script], { cwd: resolve(dirname(fileURLToPath(import.meta.url)), '../..'), stdio: ['ignore', 'pipe', 'inherit'] });
    const path = new Promise<string>((res) => {
      let out = '';
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) res(out.trim());
      });
    });
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.on('exit', (code, signal) => res({ code, signal })));
    void path.then(() => {
      if (then.includes('setInterval')) proc.kill('SIGTERM');
    });
    return { path, exit };
  }

  it('removes the file when the process is stopped by SIGTERM, and still dies of it', async () => {
    const { path, exit } = child('await new Promise(() => setInterval(() => {}, 1000));');
    const authfile = await path;
    const { signal } = await exit;
    assert.equal(signal, 'SIGTERM');
    assert.equal(existsSync(authfile), false);
  });

  it('removes the file when fn calls process.exit', async () => {
    const { path, exit } = child('process.exit(3);');
    const authfile = await path;
    const { code } = await exit;
    assert.equal(code, 3);
    assert.equal(existsSync(authfile), false);
  });
});

describe('SecretRegistry', () => {
  it('masks each value once, multi-line values also line by line, and finds them in text', () => {
    const { secrets, masked } = recorder();
    secrets.add('abc');
    secrets.add('abc');
    secrets.add('');
    secrets.add(undefined);
    secrets.add('-----BEGIN KEY-----\nMIIEow\n\n-----END KEY-----');
    assert.deepEqual(masked, ['abc', '-----BEGIN KEY-----\nMIIEow\n\n-----END KEY-----', '-----BEGIN KEY-----', 'MIIEow', '-----END KEY-----']);
    assert.equal(secrets.foundIn('xx abc yy'), true);
    assert.equal(secrets.foundIn('a line with MIIEow'), true);
    assert.equal(secrets.foundIn('ab c'), false);
  });

  it('does not show its values when logged', async () => {
    const { inspect } = await import('node:util');
    const { secrets } = recorder();
    secrets.add('do-not-print-me');
    assert.ok(!inspect({ secrets }, { depth: 5 }).includes('do-not-print-me'));
  });
});
