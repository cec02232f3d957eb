import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DELETE_FLAGS, deleteOptions } from '../../src/cli/delete-command.js';
import { parseArgs } from '../../src/cli/flags.js';
import { ACTION_DELETE_FLAGS } from '../../src/action/pending-cli-flags.js';

const dir = mkdtempSync(join(tmpdir(), 'delete-cli-'));
const list = join(dir, 'delete-images.yaml');
writeFileSync(list, 'kind: DeleteImageList\nitems: []\n');
const resolve = (argv: string[], env: NodeJS.ProcessEnv = {}) => deleteOptions(parseArgs(argv, DELETE_FLAGS), env, dir);

test('generate: workspace, config and the destination become the collectors options', () => {
  const { options, warnings } = resolve(['-c', 'd.yaml', '--workspace', 'file://ws', '--generate', '--delete-id', 'v1.2', '--max-nested-paths', '3', 'docker://r.io:5000/p', '--v2']);
  assert.deepEqual(warnings, []);
  assert.equal(options.generate, true);
  assert.equal(options.deleteId, 'v1.2');
  assert.equal(options.engine.configPath, join(dir, 'd.yaml'));
  assert.equal(options.engine.workingDir, join(dir, 'ws', 'working-dir'));
  assert.equal(options.engine.maxNestedPaths, 3);
  assert.equal(options.engine.workflow, 'diskToMirror');
  assert.equal(options.destination, 'docker://r.io:5000/p');
  assert.equal(options.forceCacheDelete, false);
});

test('delete from a list: flags of the other phase are reported as unused', () => {
  const { options, warnings } = resolve(['--delete-yaml-file', list, '--force-cache-delete', '--delete-signatures', '--dry-run', '--parallel-images', '8', '--workspace', 'file://ws', 'docker://r.io']);
  assert.equal(options.deleteYamlFile, list);
  assert.equal(options.forceCacheDelete, true);
  assert.equal(options.deleteSignatures, true);
  assert.equal(options.dryRun, true);
  assert.equal(options.engine.parallelImages, 8);
  assert.deepEqual(warnings, ['--workspace is not used when deleting from a list']);
});

test('validation messages follow oc-mirror (ref §1.7)', () => {
  const cases: [string[], string][] = [
    [['--workspace', 'ws', '--generate', 'docker://r'], 'when --workspace is used, it must have file:// prefix'],
    [['-c', 'd.yaml', '--generate', 'docker://r'], 'use the --workspace flag, it is mandatory when using the delete command with the --generate flag'],
    [['--workspace', 'file://ws', '--generate', 'docker://r'], 'the --config flag is mandatory when used with the --generate flag'],
    [['docker://r'], 'the --delete-yaml-file flag is mandatory when not using the --generate flag'],
    [['--delete-yaml-file', list], 'the destination registry is missing in the command arguments'],
    [['--delete-yaml-file', list, 'file:///x'], 'the destination registry argument must have a docker:// protocol prefix'],
    [['--delete-yaml-file', 'missing.yaml', 'docker://r'], 'file not found missing.yaml'],
    [['--delete-yaml-file', list, 'docker://r', '--parallel-images', '11'], 'the flag parallel-images must be between the range 1 to 10'],
    [['-c', 'd', '--workspace', 'file://w', '--generate', '--delete-id', '../x', 'docker://r'], `the flag delete-id "../x" must be letters, digits, '.', '_' or '-' (it names files)`],
    [['--delete-yaml-file', list, 'docker://r/UP'], 'docker://r/UP: "UP" is not a valid repository path (no tag or digest, lower-case path components)'],
  ];
  for (const [argv, message] of cases) assert.throws(() => resolve(argv), { message }, argv.join(' '));
  assert.throws(() => parseArgs(['--delete-v1-images'], DELETE_FLAGS), /flag --delete-v1-images is not supported/);
});

test('the actions parse delete inputs with the CLI table', () => {
  assert.equal(ACTION_DELETE_FLAGS, DELETE_FLAGS);
});
