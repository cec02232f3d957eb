/**
 * A copy from registries into a local store, in its own process, so that a test can SIGKILL it
 * mid-write or run two at once on one store.
 *   node --import tsx test/support/store-copy-child.ts '<ChildCopyArgs as JSON>'
 * Prints the outcomes as JSON; exits 0 when every task succeeded, 1 otherwise.
 */
import { LocalStore } from '../../src/store/store.js';
import { copyWithEngine, RegistryToStore, type ChildCopyArgs } from './store-world.js';

const args = JSON.parse(process.argv[2] ?? '{}') as ChildCopyArgs;
const store = await LocalStore.open(args.storeRoot, args.storeHost);
const endpoints = new RegistryToStore(store);
try {
  const outcomes = await copyWithEngine(endpoints, args.tasks, args);
  const report = outcomes.map((o) => (o.ok ? { source: o.task.source, ok: true } : { source: o.task.source, ok: false, error: o.error }));
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exitCode = outcomes.every((o) => o.ok) ? 0 : 1;
} finally {
  await endpoints.close();
}
