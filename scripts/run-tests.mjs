// Runs the test files with node's own runner (its summary is what CI reads).
// `node scripts/run-tests.mjs [unit|integration]`; without an argument, both.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const which = process.argv[2];
const roots = which ? [`test/${which}`] : ['test/unit', 'test/integration'];

function find(dir) {
  let out = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (entry.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = roots.flatMap((r) => {
  try {
    return find(r);
  } catch {
    return [];
  }
}).sort();
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=3', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
