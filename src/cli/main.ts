import { CollectionError, errorMessage, OcMirrorError } from '../errors.js';
import { EXIT_BITS } from '../outputs/report.js';
import { RunLogger } from '../log.js';
import { VERSION } from '../version.js';
import { runMirror } from '../workflows/index.js';
import { runDelete } from '../workflows/delete.js';
import { DELETE_FLAGS, deleteOptions, deleteUsage } from './delete-command.js';
import { parseArgs, type FlagSpec } from './flags.js';
import { runList } from './list-command.js';
import { MIRROR_FLAGS, mirrorOptions } from './mirror-command.js';
import { ConsoleProgress } from './progress.js';
import { runServe } from './serve-command.js';

const USAGE = `oc-mirror: mirror OpenShift content into a disconnected registry (oc-mirror v2 compatible)

Usage:
  oc-mirror -c <isc.yaml> --workspace file://<dir> docker://<registry>[/prefix] [--v2]   mirror to mirror
  oc-mirror -c <isc.yaml> --workspace file://<dir> docker://<registry> --dry-run         plan only
  oc-mirror -c <isc.yaml> file://<dir> [--v2]                                            mirror to disk (archives)
  oc-mirror -c <isc.yaml> --from file://<dir> docker://<registry>[/prefix] [--v2]        disk to mirror
  oc-mirror delete -c <delete-isc.yaml> --workspace file://<dir> --generate docker://<registry>[/prefix]   list what to delete
  oc-mirror delete --delete-yaml-file <list.yaml> docker://<registry>[/prefix]             delete what a list names
  oc-mirror serve [--port 55000] [--cache-dir <dir> | --from file://<archives>]            serve the local store or archives
  oc-mirror version

Flags:`;

function usage(specs: FlagSpec[]): string {
  const lines = specs
    .filter((s) => !s.hidden && !s.notSupported)
    .map((s) => `  ${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.kind === 'bool' ? '' : ` ${s.kind}`}`.padEnd(34) + s.help);
  return `${USAGE}\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  // Sub-commands come first, as cobra users write them; anything else is the mirror command.
  const command = argv[0];
  if (command === 'serve') {
    const progress = new ConsoleProgress(process.stdout, process.stderr, false);
    return runServe(argv.slice(1), process.env, (level) => new RunLogger(level, progress));
  }
  if (command === 'version') {
    process.stdout.write(`oc-mirror-action ${VERSION} (oc-mirror v2 compatible)\n`);
    return 0;
  }
  if (command === 'delete') {
    const args = parseArgs(argv.slice(1), DELETE_FLAGS);
    if (args.flags.help) {
      process.stdout.write(deleteUsage());
      return 0;
    }
    const { options, warnings } = deleteOptions(args, process.env, process.cwd());
    const log = new RunLogger(options.engine.logLevel, new ConsoleProgress(process.stdout, process.stderr, false));
    for (const w of warnings) log.warn(w);
    return (await runDelete(options, log)).exitCode;
  }
  if (command === 'list') {
    const progress = new ConsoleProgress(process.stdout, process.stderr, false);
    return runList(argv.slice(1), process.env, process.cwd(), (text) => process.stdout.write(text), new RunLogger('info', progress));
  }
  const args = parseArgs(argv, MIRROR_FLAGS);
  if (args.flags.help) {
    process.stdout.write(usage(MIRROR_FLAGS));
    return 0;
  }
  const { options, warnings } = mirrorOptions(args, process.env, process.cwd());
  const progress = new ConsoleProgress(process.stdout, process.stderr, Boolean(process.stdout.isTTY) && !process.env.CI);
  const log = new RunLogger(options.logLevel, progress);
  for (const w of warnings) log.warn(w);
  try {
    const outcome = await runMirror(options, log, {
      copyStarting: (total) => progress.begin(total),
      listener: progress.listener(log, options.quiet),
    });
    return outcome.exitCode;
  } finally {
    progress.end();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // One line, no stack: the message names what is wrong. Unexpected errors keep their stack
    // only when asked for, since a stack is noise to the user and a bug report to us.
    const message = errorMessage(err).replace(/\s*\n\s*/g, ' ');
    process.stderr.write(`error: ${message}\n`);
    if (!(err instanceof OcMirrorError) && process.env.OC_MIRROR_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exitCode = err instanceof CollectionError ? EXIT_BITS[err.origin] : 1;
  },
);
