import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ACTION_NAMES, type ActionName } from '../../src/action/actions.js';
import { ACTION_INPUTS, PLAN_PLACEHOLDER_DESTINATION } from '../../src/action/input-table.js';
import { inputVariable, readInputs } from '../../src/action/inputs.js';
import { ACTION_DELETE_FLAGS } from '../../src/action/pending-cli-flags.js';
import { SecretRegistry } from '../../src/action/secrets.js';
import { parseArgs } from '../../src/cli/flags.js';
import { MIRROR_FLAGS as ACTION_MIRROR_FLAGS, mirrorOptions } from '../../src/cli/mirror-command.js';
import { UsageError } from '../../src/errors.js';

/** INPUT_* variables as the runner sets them, plus a HOME so that cacheDir does not depend on the machine. */
function env(inputs: Record<string, string>, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { HOME: '/home/runner', ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [inputVariable(k), v])), ...extra };
}

function recorder(): { secrets: SecretRegistry; masked: string[] } {
  const masked: string[] = [];
  return { secrets: new SecretRegistry((v) => masked.push(v)), masked };
}

function read<A extends ActionName>(action: A, inputs: Record<string, string>, extra: NodeJS.ProcessEnv = {}) {
  return readInputs(action, env(inputs, extra), { cwd: '/gh/ws', secrets: recorder().secrets });
}

describe('input table', () => {
  it('declares lower-kebab, unique inputs with descriptions for every action', () => {
    for (const action of ACTION_NAMES) {
      const names = ACTION_INPUTS[action].map((i) => i.name);
      assert.equal(new Set(names).size, names.length, `${action}: duplicate input`);
      for (const spec of ACTION_INPUTS[action]) {
        assert.match(spec.name, /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, `${action}: ${spec.name}`);
        assert.ok(spec.description.length > 10, `${action}: ${spec.name} has no description`);
      }
    }
  });

  it('has the inputs the issue asks of each action', () => {
    const common = ['config', 'cache-dir', 'parallel-images', 'parallel-layers', 'src-tls-verify', 'dest-tls-verify', 'auth-json', 'registries-conf', 'log-level', 'registry', 'username', 'password'];
    const own: Record<ActionName, string[]> = {
      plan: ['workspace', 'destination', 'shards'],
      mirror: ['destination', 'workspace', 'shard'],
      pack: ['path', 'archive-size', 'since', 'artifact-name', 'cache-key-prefix'],
      push: ['destination', 'from', 'artifact-name', 'run-id', 'repository', 'github-token'],
      delete: ['destination', 'workspace', 'generate', 'delete-yaml-file', 'delete-id'],
    };
    for (const action of ACTION_NAMES) {
      const names = new Set(ACTION_INPUTS[action].map((i) => i.name));
      for (const name of [...common, ...own[action]]) assert.ok(names.has(name), `${action} lacks ${name}`);
    }
    assert.equal(ACTION_INPUTS.pack.find((i) => i.name === 'artifact-name')?.default, 'oc-mirror-archive');
    assert.equal(ACTION_INPUTS.plan.find((i) => i.name === 'destination')?.required, false);
    assert.equal(ACTION_INPUTS.mirror.find((i) => i.name === 'destination')?.required, true);
  });

  it('maps every flagged input to a flag the CLI parser knows, and keeps credentials out of flags', () => {
    for (const action of ACTION_NAMES) {
      const known = new Set((action === 'delete' ? ACTION_DELETE_FLAGS : ACTION_MIRROR_FLAGS).map((f) => f.name));
      for (const spec of ACTION_INPUTS[action]) {
        if (spec.flag) assert.ok(known.has(spec.flag), `${action}: --${spec.flag} unknown to the parser`);
        if (['secret', 'credential', 'auth-json'].includes(spec.kind)) assert.equal(spec.flag, undefined, `${action}: ${spec.name}`);
      }
    }
  });
});

describe('readInputs: inputs → options', () => {
  it('reads INPUT_<NAME> with hyphens kept, trims, and resolves paths against the workspace', () => {
    const r = read('mirror', { config: '  isc.yaml \n', destination: 'quay.example.com:5000/mirror', 'parallel-images': '8' });
    assert.equal(r.options.configPath, '/gh/ws/isc.yaml');
    assert.equal(r.options.workflow, 'mirrorToMirror');
    assert.equal(r.options.destination, 'docker://quay.example.com:5000/mirror');
    assert.equal(r.options.workingDir, '/gh/ws/oc-mirror-workspace/working-dir');
    assert.equal(r.options.parallelImages, 8);
    assert.equal(r.options.parallelLayers, 5);
    assert.equal(r.options.srcTlsVerify, true);
    assert.equal(r.options.cacheDir, '/home/runner');
    assert.equal(r.options.authfile, undefined);
    assert.equal(r.shard, undefined);
  });

  it('defaults cwd to GITHUB_WORKSPACE', () => {
    const r = readInputs('mirror', env({ config: 'c.yaml', destination: 'r.io' }, { GITHUB_WORKSPACE: '/home/runner/work/x/x' }), { secrets: recorder().secrets });
    assert.equal(r.options.configPath, '/home/runner/work/x/x/c.yaml');
  });

  it('hands over every CLI-backed input, with YAML booleans and file:// or docker:// forms', () => {
    const r = read('mirror', {
      config: '/abs/isc.yaml',
      destination: 'docker://r.example.com/ocp',
      workspace: 'file:///data/ws',
      'cache-dir': 'cache',
      'parallel-images': '10',
      'parallel-layers': '1',
      'src-tls-verify': 'False',
      'dest-tls-verify': 'FALSE',
      'registries-conf': 'conf/registries.conf',
      'log-level': 'debug',
      shard: '2/4',
      'max-nested-paths': '2',
      'retry-times': '0',
      'retry-delay': '1m30s',
      'image-timeout': '30m',
    });
    const o = r.options;
    assert.equal(o.configPath, '/abs/isc.yaml');
    assert.equal(o.workingDir, '/data/ws/working-dir');
    assert.equal(o.cacheDir, '/gh/ws/cache');
    assert.deepEqual([o.parallelImages, o.parallelLayers, o.srcTlsVerify, o.destTlsVerify], [10, 1, false, false]);
    assert.deepEqual([o.logLevel, o.maxNestedPaths, o.retryTimes, o.retryDelayMs, o.imageTimeoutMs], ['debug', 2, 0, 90_000, 1_800_000]);
    assert.equal(r.registriesConf, '/gh/ws/conf/registries.conf');
    assert.deepEqual(r.shard, { index: 2, count: 4 });
  });

  it('produces the argument list the CLI takes, so both front ends validate alike', () => {
    const r = read('mirror', { config: 'isc.yaml', destination: 'r.io/p', 'parallel-images': '3', 'dest-tls-verify': 'false' });
    assert.deepEqual(r.argv, [
      '--config=isc.yaml',
      '--parallel-images=3',
      '--src-tls-verify=true',
      '--dest-tls-verify=false',
      '--log-level=info',
      '--workspace=file://oc-mirror-workspace',
      '--',
      'docker://r.io/p',
    ]);
    const cli = mirrorOptions(parseArgs(r.argv, [...ACTION_MIRROR_FLAGS]), env({}), '/gh/ws');
    assert.deepEqual(cli.options, r.options);
  });

  it('plan: a dry run, the destination optional, shards', () => {
    const bare = read('plan', { config: 'isc.yaml' });
    assert.equal(bare.options.dryRun, true);
    assert.equal(bare.options.workflow, 'mirrorToMirror');
    assert.equal(bare.options.destination, PLAN_PLACEHOLDER_DESTINATION);
    assert.equal(bare.destinationGiven, false);
    assert.equal(bare.shards, 1);
    const full = read('plan', { config: 'isc.yaml', destination: 'r.io', shards: '8', workspace: 'plan-ws', 'max-nested-paths': '3' });
    assert.equal(full.options.destination, 'docker://r.io');
    assert.equal(full.destinationGiven, true);
    assert.equal(full.shards, 8);
    assert.equal(full.options.workingDir, '/gh/ws/plan-ws/working-dir');
    assert.equal(full.options.maxNestedPaths, 3);
  });

  it('pack: mirror to disk into path, archive size, since, artifact and cache names', () => {
    const r = read('pack', { config: 'isc.yaml', 'archive-size': '4', since: '2026-01-31', 'strict-archive': 'true', 'cache-key-prefix': 'ocm-prod' });
    assert.equal(r.options.workflow, 'mirrorToDisk');
    assert.equal(r.options.archiveDir, '/gh/ws/oc-mirror-archive');
    assert.equal(r.options.workingDir, '/gh/ws/oc-mirror-archive/working-dir');
    assert.equal(r.options.since, '2026-01-31');
    assert.equal(r.options.strictArchive, true);
    assert.equal(r.archiveSizeGiB, 4);
    assert.equal(r.artifactName, 'oc-mirror-archive');
    assert.equal(r.cacheKeyPrefix, 'ocm-prod');
    const elsewhere = read('pack', { config: 'isc.yaml', path: 'file:///mnt/out', 'artifact-name': 'ocp-4.18' });
    assert.equal(elsewhere.options.archiveDir, '/mnt/out');
    assert.equal(elsewhere.artifactName, 'ocp-4.18');
    assert.equal(elsewhere.archiveSizeGiB, undefined);
  });

  it('push: from a directory, or from an artifact downloaded under RUNNER_TEMP', () => {
    const dir = read('push', { config: 'isc.yaml', destination: 'r.io', from: 'archives' });
    assert.equal(dir.options.workflow, 'diskToMirror');
    assert.equal(dir.options.fromDir, '/gh/ws/archives');
    assert.deepEqual(dir.archives, { kind: 'directory', path: '/gh/ws/archives' });

    const { secrets, masked } = recorder();
    const art = readInputs(
      'push',
      env({ config: 'isc.yaml', destination: 'r.io', 'artifact-name': 'ocp', 'run-id': '123456', repository: 'acme/mirror', 'github-token': 'ghs_token123' }, { RUNNER_TEMP: '/rt' }),
      { cwd: '/gh/ws', secrets },
    );
    assert.equal(art.options.fromDir, '/rt/oc-mirror-artifact');
    assert.deepEqual(art.archives, { kind: 'artifact', name: 'ocp', path: '/rt/oc-mirror-artifact', runId: 123456, repository: 'acme/mirror', githubToken: 'ghs_token123' });
    assert.deepEqual(masked, ['ghs_token123']);
    assert.ok(!art.argv.join(' ').includes('ghs_token123'));
  });

  it('delete: resolved by the CLI\'s delete validation', () => {
    assert.throws(() => read('delete', { destination: 'r.io/ocp', generate: 'true', config: 'delete.yaml' }), { message: /^input "workspace": required with generate/ });
    const r = read('delete', { destination: 'r.io/ocp', generate: 'True', 'delete-id': 'q1', config: 'delete.yaml', workspace: 'oc-mirror-workspace' });
    assert.equal(r.argv[0], 'delete');
    assert.equal(r.destination, 'docker://r.io/ocp');
    assert.equal(r.options.generate, true);
    assert.equal(r.options.deleteId, 'q1');
    assert.equal(r.options.engine.configPath, '/gh/ws/delete.yaml');
    assert.equal(r.options.engine.workingDir, '/gh/ws/oc-mirror-workspace/working-dir');
    const dir = mkdtempSync(join(tmpdir(), 'delete-list-'));
    try {
      writeFileSync(join(dir, 'delete-images.yaml'), '');
      const apply = readInputs('delete', env({ destination: 'r.io', 'delete-yaml-file': 'delete-images.yaml' }), { cwd: dir, secrets: recorder().secrets });
      assert.equal(apply.options.generate, false);
      assert.equal(apply.options.deleteYamlFile, join(dir, 'delete-images.yaml'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.throws(() => read('delete', { destination: 'r.io', 'delete-yaml-file': 'missing.yaml' }), /file not found missing.yaml/);
  });

  it('masks credentials at once and keeps them out of the arguments', () => {
    const { secrets, masked } = recorder();
    const r = readInputs('mirror', env({ config: 'c', destination: 'r.io', registry: 'r.io', username: 'robot', password: 's3cr3t-pw' }), { cwd: '/w', secrets });
    assert.deepEqual(r.credentials, { registry: 'r.io', username: 'robot', password: 's3cr3t-pw' });
    assert.ok(masked.includes('s3cr3t-pw'));
    assert.ok(masked.includes('robot:s3cr3t-pw'));
    assert.ok(masked.includes(Buffer.from('robot:s3cr3t-pw').toString('base64')));
    assert.ok(!masked.includes('robot'), 'a user name is not a secret');
    assert.ok(!r.argv.some((a) => a.includes('s3cr3t') || a.includes('robot')));
  });

  it('treats an empty input as absent', () => {
    const r = read('mirror', { config: 'c', destination: 'r.io', 'parallel-images': '', shard: '  ' });
    assert.equal(r.options.parallelImages, 4);
    assert.equal(r.shard, undefined);
  });
});

describe('readInputs: bad inputs → one-line UsageError naming the input', () => {
  const base = { config: 'isc.yaml', destination: 'r.io' };
  const cases: [ActionName, Record<string, string>, RegExp, NodeJS.ProcessEnv?][] = [
    ['mirror', { destination: 'r.io' }, /^input "config": required/],
    ['mirror', { config: 'c' }, /^input "destination": required/],
    ['mirror', { ...base, 'parallel-images': '11' }, /^input "parallel-images": the flag parallel-images must be between the range 1 to 10$/],
    ['mirror', { ...base, 'parallel-images': 'four' }, /^input "parallel-images": invalid argument "four" .* must be a whole number$/],
    ['mirror', { ...base, 'parallel-layers': '0' }, /^input "parallel-layers": the flag parallel-layers must be between/],
    ['mirror', { ...base, 'dest-tls-verify': 'yes' }, /^input "dest-tls-verify": "yes" is not a boolean \(true \| True \| TRUE \| false \| False \| FALSE\)$/],
    ['mirror', { ...base, 'src-tls-verify': 'on' }, /^input "src-tls-verify": /],
    ['mirror', { ...base, 'log-level': 'loud' }, /^input "log-level": "loud": invalid log-level/],
    ['mirror', { ...base, destination: 'file:///data' }, /^input "destination": must be a registry/],
    ['mirror', { ...base, workspace: 's3://bucket' }, /^input "workspace": must be a directory/],
    ['mirror', { ...base, shard: '0/4' }, /^input "shard": "0\/4": the shard must be between 1 and 4$/],
    ['mirror', { ...base, shard: 'two' }, /^input "shard": "two" is not a shard: expected i\/N/],
    ['mirror', { ...base, shard: '1/300' }, /^input "shard": .*between 1 and 256/],
    ['mirror', { ...base, 'max-nested-paths': '-1' }, /^input "max-nested-paths": the flag max-nested-paths must not be negative$/],
    ['mirror', { ...base, 'retry-delay': '10 minutes' }, /^input "retry-delay": invalid argument "10 minutes"/],
    ['mirror', { ...base, 'image-timeout': '0' }, /^input "image-timeout": the flag image-timeout must be a positive duration$/],
    ['mirror', { ...base, 'retry-times': '-2' }, /^input "retry-times": the flag retry-times must not be negative$/],
    ['mirror', { ...base, 'cache-dir': '/c' }, /^input "cache-dir": either OC_MIRROR_CACHE or --cache-dir/, { OC_MIRROR_CACHE: '/d' }],
    ['plan', { config: 'c', shards: '0' }, /^input "shards": 0 shards: must be between 1 and 256/],
    ['plan', { config: 'c', shards: '257' }, /^input "shards": /],
    ['plan', { config: 'c', shards: 'many' }, /^input "shards": "many" is not a whole number/],
    ['pack', { config: 'c', since: '2026-02-30' }, /^input "since": --since flag needs to be in format yyyy-MM-dd$/],
    ['pack', { config: 'c', path: '/data/logs' }, /^input "path": the destination contains an internal oc-mirror keyword 'logs'$/],
    ['pack', { config: 'c', 'archive-size': '-1' }, /^input "archive-size": must be a positive number of GiB/],
    ['pack', { config: 'c', 'archive-size': '1.5' }, /^input "archive-size": invalid argument "1.5"/],
    ['pack', { config: 'c', 'artifact-name': 'a/b' }, /^input "artifact-name": "a\/b" cannot be an artifact name: it contains "\/"$/],
    ['pack', { config: 'c', 'cache-key-prefix': 'a,b' }, /^input "cache-key-prefix": cannot contain a comma/],
    ['push', { ...base, from: '/d/helm/x' }, /^input "from": the path set in --from flag contains an internal oc-mirror keyword 'helm'$/],
    ['push', { ...base, 'run-id': 'latest' }, /^input "run-id": "latest" is not a workflow run id/],
    ['push', { ...base, repository: 'acme' }, /^input "repository": "acme" is not owner\/name$/],
    ['push', { ...base, repository: 'acme/x' }, /^input "run-id": required with "repository"$/],
    ['push', { ...base, 'artifact-name': 'a:b' }, /^input "artifact-name": /],
    ['delete', { destination: 'r.io', generate: 'yes' }, /^input "generate": "yes" is not a boolean/],
    ['mirror', { ...base, username: 'u' }, /^input "password": required with "username"$/],
    ['mirror', { ...base, password: 'p' }, /^input "username": required with "password"$/],
    ['mirror', { ...base, username: 'u', password: 'p' }, /^input "registry": required with "username" and "password"/],
    ['mirror', { ...base, 'auth-json': '{"auths": {"r.io": {"auth": "not-json-at-all' }, /^input "auth-json": is not valid JSON/],
  ];
  for (const [action, inputs, expected, extra] of cases) {
    it(`${action} ${JSON.stringify(inputs)}`, () => {
      assert.throws(
        () => read(action, inputs, extra),
        (err: unknown) => {
          assert.ok(err instanceof UsageError, String(err));
          assert.match(err.message, expected);
          assert.ok(!err.message.includes('\n'), 'one line');
          return true;
        },
      );
    });
  }

  it('never echoes a secret input in an error', () => {
    const password = 'hunter2-very-secret';
    for (const inputs of [
      { ...base, username: 'u', password, 'parallel-images': '99' },
      { ...base, 'auth-json': `{"auths": {"r.io": {"auth": "${password}"` },
      { ...base, 'auth-json': `{"auths": {"r.io": {"auth": "${Buffer.from(password).toString('base64')}"}}}` },
    ]) {
      assert.throws(
        () => read('mirror', inputs),
        (err: Error) => !err.message.includes(password) && !err.message.includes(Buffer.from(password).toString('base64')),
      );
    }
  });
});
