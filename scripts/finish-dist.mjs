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
writeFileSync(join(dist, 'cli.js'), "#!/usr/bin/env node\nimport './cli/index.js';\n");
chmodSync(join(dist, 'cli.js'), 0o755);
for (const action of ACTIONS) {
  mkdirSync(join(dist, action), { recursive: true });
  writeFileSync(join(dist, action, 'index.js'), `import { runAction } from '../action/index.js';\n\nawait runAction('${action}');\n`);
}
writeFileSync(join(dist, 'index.js'), "import { runAction } from './action/index.js';\n\nawait runAction();\n");
