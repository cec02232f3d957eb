// ncc always names its output index.js; the package's bin is dist/cli.js, so write a
// two-line launcher there, and mark dist/ as ESM for Node.
import { writeFileSync, chmodSync } from 'node:fs';

writeFileSync('dist/package.json', JSON.stringify({ type: 'module' }, null, 2) + '\n');
writeFileSync('dist/cli.js', "#!/usr/bin/env node\nimport './cli/index.js';\n");
chmodSync('dist/cli.js', 0o755);
