import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs, parseDuration } from '../../src/cli/flags.js';
import { MIRROR_FLAGS, mirrorOptions } from '../../src/cli/mirror-command.js';

const resolve = (argv: string[], env: NodeJS.ProcessEnv = {}) => mirrorOptions(parseArgs(argv, MIRROR_FLAGS), env, '/work');

test('flags: pflag forms, booleans with =false, durations', () => {
  const { flags, positional } = parseArgs(
    ['-c', 'isc.yaml', '--workspace=file://ws', '--dest-tls-verify=false', '--src-tls-verify', '--retry-delay', '1m30s', 'docker://r.io/p', '--v2'],
    MIRROR_FLAGS,
  );
  assert.equal(flags.config, 'isc.yaml');
  assert.equal(flags.workspace, 'file://ws');
  assert.equal(flags['dest-tls-verify'], false);
  assert.equal(flags['src-tls-verify'], true);
  assert.equal(flags['retry-delay'], 90_000);
  assert.deepEqual(positional, ['docker://r.io/p']);
  assert.equal(parseDuration('500ms', 'x'), 500);
  assert.equal(parseDuration('2h', 'x'), 7_200_000);
  assert.throws(() => parseDuration('10 minutes', 'image-timeout'), /invalid argument "10 minutes" for "--image-timeout"/);
});

test('mirror to mirror resolves working-dir and defaults', () => {
  const { options } = resolve(['-c', 'isc.yaml', '--workspace', 'file://ws', 'docker://r.io:5000/p']);
  assert.equal(options.workflow, 'mirrorToMirror');
  assert.equal(options.workingDir, '/work/ws/working-dir');
  assert.equal(options.configPath, '/work/isc.yaml');
  assert.equal(options.parallelImages, 4);
  assert.equal(options.parallelLayers, 5);
  assert.equal(options.retryTimes, 5);
  assert.equal(options.imageTimeoutMs, 600_000);
  assert.equal(options.destTlsVerify, true);
  const again = resolve(['-c', 'i', '--workspace', 'file:///abs/working-dir', 'docker://r.io']);
  assert.equal(again.options.workingDir, '/abs/working-dir');
});

test('argument errors carry oc-mirror messages and are checked by prefix', () => {
  const cases: [string[], RegExp, NodeJS.ProcessEnv?][] = [
    [['--workspace', 'ws', '-c', 'i', 'docker://r'], /when --workspace is used, it must have file:\/\/ prefix$/],
    [['--log-level', 'loud', '-c', 'i', '--workspace', 'file://w', 'docker://r'], /"loud": invalid log-level/],
    [['--cache-dir', '/c', '-c', 'i', '--workspace', 'file://w', 'docker://r'], /either OC_MIRROR_CACHE or --cache-dir/, { OC_MIRROR_CACHE: '/x' }],
    [['--workspace', 'file://w', 'docker://r'], /use the --config flag it is mandatory$/],
    [['-c', 'i', '--from', 'file://a', 'file:///d'], /--from argument is not needed/],
    [['-c', 'i', 'file:///data/logs'], /internal oc-mirror keyword 'logs'/],
    [['-c', 'i', '--from', '/a', 'docker://r'], /when --from is used, it must have file:\/\/ prefix/],
    [['-c', 'i', '--since', '2024-13-01', 'file:///d'], /--since flag needs to be in format yyyy-MM-dd/],
    [['-c', 'i', '--parallel-images', '11', '--workspace', 'file://w', 'docker://r'], /parallel-images must be between the range 1 to 10/],
    [['-c', 'i', '--parallel-layers', '0', '--workspace', 'file://w', 'docker://r'], /parallel-layers must be between the range 1 to 10/],
    [['-c', 'i', '--workspace', 'file://w', 'file:///d'], /--workspace argument is not needed/],
    [['-c', 'i', '--workspace', 'file://w', '--from', 'file://f', 'docker://r'], /cannot be used together/],
    [['-c', 'i', 'docker://r'], /either --from .* or --workspace .* need to be provided/],
    [['-c', 'i', '--workspace', 'file://w', 'registry.example.com/x'], /destination must have either file:\/\/ .* or docker:\/\//],
    [['-c', 'i', '--workspace', 'file://w', 'quay.io/docker://x'], /destination must have either file:\/\//],
    [['-c', 'i', '--workspace', 'file://w'], /destination argument is missing/],
    [['-c', 'i', '--workspace', 'file://w', 'docker://a', 'docker://b'], /unexpected argument "docker:\/\/b"/],
  ];
  for (const [argv, re, env] of cases) assert.throws(() => resolve(argv, env), re, argv.join(' '));
});

test('a path that merely contains a keyword is accepted (oc-mirror refuses substrings)', () => {
  assert.equal(resolve(['-c', 'i', 'file:///data/helm-archive']).options.archiveDir, '/data/helm-archive');
});

test('mirror to disk and disk to mirror keep working-dir beside the archives', () => {
  const m2d = resolve(['-c', 'i', 'file://out', '--since', '2026-01-31', '--strict-archive', '-p', '5555'], { HOME: '/h' });
  assert.equal(m2d.options.workflow, 'mirrorToDisk');
  assert.equal(m2d.options.archiveDir, '/work/out');
  assert.equal(m2d.options.workingDir, '/work/out/working-dir');
  assert.equal(m2d.options.storeHost, 'localhost:5555');
  assert.equal(m2d.options.cacheDir, '/h');
  assert.equal(m2d.options.strictArchive, true);
  assert.equal(m2d.options.since, '2026-01-31');
  const sized = resolve(['-c', 'i', 'file://out', '--archive-size', '4', '--registries-conf', 'conf/r.conf']);
  assert.equal(sized.options.archiveSizeGiB, 4);
  assert.equal(sized.options.registriesConf, '/work/conf/r.conf');
  assert.throws(() => resolve(['-c', 'i', 'file://out', '--archive-size', '-1']), /the flag archive-size must be a positive number of GiB/);
  const d2m = resolve(['-c', 'i', '--from', 'file:///mnt/disk', 'docker://r.io/x', '--cache-dir', 'c']);
  assert.equal(d2m.options.workflow, 'diskToMirror');
  assert.equal(d2m.options.fromDir, '/mnt/disk');
  assert.equal(d2m.options.workingDir, '/mnt/disk/working-dir');
  assert.equal(d2m.options.cacheDir, '/work/c');
  assert.equal(d2m.options.storeHost, 'localhost:55000');
});

test('unknown flags and flags of unbuilt features are refused, never ignored', () => {
  assert.throws(() => parseArgs(['--parallel-imagez', '3'], MIRROR_FLAGS), /unknown flag: --parallel-imagez$/);
  assert.throws(() => parseArgs(['--v1'], MIRROR_FLAGS), /oc-mirror v2 only/);
  assert.throws(() => parseArgs(['--dest-tls-verify=maybe'], MIRROR_FLAGS), /must be true or false/);
  assert.throws(() => parseArgs(['--parallel-images', 'four'], MIRROR_FLAGS), /must be a whole number/);
  assert.throws(() => parseArgs(['-c'], MIRROR_FLAGS), /flag needs an argument: --config/);
});
