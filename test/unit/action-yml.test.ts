import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { actionYml, readmeTables, rootActionYml, rootInputs } from '../../src/action/action-yml.js';
import { ACTION_NAMES } from '../../src/action/actions.js';
import { ACTION_INPUTS } from '../../src/action/input-table.js';
import { REPO_ROOT } from '../support/cli.js';

const FILES: [string, () => string][] = [['action.yml', rootActionYml], ...ACTION_NAMES.map((a): [string, () => string] => [`${a}/action.yml`, () => actionYml(a)])];

describe('action.yml files', () => {
  for (const [file, render] of FILES) {
    it(`${file} is the rendering of the input and output tables`, () => {
      const path = join(REPO_ROOT, file);
      if (process.env.UPDATE_ACTION_YML === '1') writeFileSync(path, render());
      assert.equal(readFileSync(path, 'utf8'), render(), `${file} is stale: UPDATE_ACTION_YML=1 node --import tsx --test test/unit/action-yml.test.ts`);
    });
  }

  it('JavaScript actions on node24 whose main is a launcher finish-dist writes', () => {
    const dist = mkdtempSync(join(tmpdir(), 'finish-dist-'));
    try {
      const run = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/finish-dist.mjs'), dist], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      for (const [file] of FILES) {
        const doc = parse(readFileSync(join(REPO_ROOT, file), 'utf8')) as { runs: { using: string; main: string } };
        assert.equal(doc.runs.using, 'node24');
        const launcher = join(dist, doc.runs.main.replace(/^(\.\.\/)?dist\//, ''));
        assert.ok(existsSync(launcher), `${file}: ${doc.runs.main} is not written by finish-dist`);
        const text = readFileSync(launcher, 'utf8');
        assert.match(text, /const \{ runAction \} = await import\('\.\.?\/action\/index\.js'\);/);
        // the threadpool size is set before the engine loads, and a size the user set is kept
        assert.ok(text.indexOf("process.env.UV_THREADPOOL_SIZE ??= '16';") === 0, text);
      }
      assert.ok(existsSync(join(dist, 'cli.js')));
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });

  it('the issue\'s input names are there; the root action has command and every input once', () => {
    const names = (a: (typeof ACTION_NAMES)[number]) => ACTION_INPUTS[a].map((s) => s.name);
    for (const a of ACTION_NAMES) {
      for (const n of ['config', 'cache-dir', 'parallel-images', 'parallel-layers', 'src-tls-verify', 'dest-tls-verify', 'auth-json', 'registries-conf', 'log-level']) {
        assert.ok(names(a).includes(n), `${a}: ${n}`);
      }
    }
    assert.deepEqual(['workspace', 'destination', 'shards'].filter((n) => !names('plan').includes(n)), []);
    assert.deepEqual(['destination', 'workspace', 'shard'].filter((n) => !names('mirror').includes(n)), []);
    assert.deepEqual(['path', 'archive-size', 'since', 'artifact-name', 'cache-key-prefix'].filter((n) => !names('pack').includes(n)), []);
    assert.deepEqual(['destination', 'from', 'artifact-name', 'run-id', 'repository', 'github-token'].filter((n) => !names('push').includes(n)), []);
    assert.deepEqual(['destination', 'workspace', 'generate', 'delete-yaml-file', 'delete-id'].filter((n) => !names('delete').includes(n)), []);
    const root = rootInputs().map((s) => s.name);
    assert.equal(root[0], 'command');
    assert.equal(new Set(root).size, root.length);
    assert.ok(rootInputs().every((s) => s.name === 'command' || !s.required));
  });

  it('README has every action\'s generated input and output tables', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    for (const a of ACTION_NAMES) assert.ok(readme.includes(readmeTables(a)), `README.md: the ${a} tables are stale (see src/action/action-yml.ts readmeTables)`);
  });

  it('README tables list every input with its default', () => {
    const table = readmeTables('pack');
    assert.ok(table.includes('| `artifact-name` | no | `oc-mirror-archive` | Name of the artifact the archives are uploaded as. |'));
    assert.equal(table.split('\n').filter((l) => l.startsWith('| `')).length, ACTION_INPUTS.pack.length + 3);
  });
});
