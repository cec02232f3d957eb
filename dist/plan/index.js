import { runAction } from '../action/index.js';

await runAction('plan');
