// ncc always names its output index.js and takes one entry per build: dist/cli/ holds the CLI,
// dist/action/ the engine of the actions. Next to them go small launchers: the package's bin
// dist/cli.js, each action's dist/<action>/index.js (what <action>/action.yml runs) and the root
// action's dist/index.js, which reads the `command` input. dist/ is marked as ESM for Node.
// `node scripts/finish-dist.mjs [dist-dir]`
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = process.argv[2] ?? 'dist';
const ACTIONS = ['plan', 'mirror', 'pack', 'push', 'delete'];

writeFileSync(join(dist, 'package.json'), JSON.stringify({ type: 'module' }, null, 2) + '\n');
// Blob data is written with O_DSYNC from libuv's threadpool: its default 4 threads, all waiting
// on the disk, would leave every other file operation queued behind them. The size must be set
// before the pool starts, hence a dynamic import after it; a size the user set is kept.
const THREADPOOL = "process.env.UV_THREADPOOL_SIZE ??= '16';\n";
writeFileSync(join(dist, 'cli.js'), `#!/usr/bin/env node\n${THREADPOOL}await import('./cli/index.js');\n`);
chmodSync(join(dist, 'cli.js'), 0o755);
for (const action of ACTIONS) {
  mkdirSync(join(dist, action), { recursive: true });
  writeFileSync(join(dist, action, 'index.js'), `${THREADPOOL}const { runAction } = await import('../action/index.js');\n\nawait runAction('${action}');\n`);
}
writeFileSync(join(dist, 'index.js'), `${THREADPOOL}const { runAction } = await import('./action/index.js');\n\nawait runAction();\n`);
