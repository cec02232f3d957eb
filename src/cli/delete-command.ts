/**
 * `oc-mirror delete` (ref §1.7, §11): `--generate` writes the list of images a
 * DeleteImageSetConfiguration names at a destination; `--delete-yaml-file` deletes what a list names.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { parseRegistryLocation } from '../image/reference.js';
import type { DeleteOptions } from '../delete/options.js';
import type { FlagSpec, ParsedArgs } from './flags.js';
import { COMMON_FLAGS, engineFlags, environmentFlags, flagReaders, maxNestedPathsFlag, parallelFlags } from './mirror-command.js';

export const DELETE_FLAGS: FlagSpec[] = [
  ...COMMON_FLAGS,
  { name: 'generate', kind: 'bool', help: 'write working-dir/delete/delete-images.yaml from -c <DeleteImageSetConfiguration> and --workspace' },
  { name: 'delete-yaml-file', kind: 'string', help: 'delete the images this list names (a file written by --generate)' },
  { name: 'delete-id', kind: 'string', help: 'suffix of the generated files: delete-images-<id>.yaml, delete-imageset-config-<id>.yaml' },
  { name: 'delete-signatures', kind: 'bool', help: 'also delete the sigstore signatures (sha256-<digest>.sig tags) of the images' },
  { name: 'force-cache-delete', kind: 'bool', help: 'also remove the images from the local cache and reclaim its unreferenced blobs' },
  { name: 'dry-run', kind: 'bool', help: 'say what would be deleted, delete nothing' },
  { name: 'max-nested-paths', kind: 'int', help: 'with --generate: the value the images were mirrored with (0 = no limit)' },
  { name: 'delete-v1-images', kind: 'bool', help: '', notSupported: 'images mirrored by oc-mirror v1 are not listed by this version' },
];

const USAGE = `oc-mirror delete: delete mirrored images from a registry (oc-mirror v2 compatible)

Usage:
  oc-mirror delete -c <delete-isc.yaml> --workspace file://<dir> --generate docker://<registry>[/prefix]   write the list
  oc-mirror delete --delete-yaml-file <dir>/working-dir/delete/delete-images.yaml docker://<registry>[/prefix]   delete it

Flags:`;

export function deleteUsage(): string {
  const lines = DELETE_FLAGS.filter((s) => !s.hidden && !s.notSupported).map(
    (s) => `  ${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.kind === 'bool' ? '' : ` ${s.kind}`}`.padEnd(34) + s.help,
  );
  return `${USAGE}\n${lines.join('\n')}\n`;
}

/** A `--delete-id` becomes part of file names: no separators, no dot files. */
const DELETE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Validates the delete command's flags in oc-mirror's order, with its messages (ref §1.5, §1.7). */
export function deleteOptions(args: ParsedArgs, env: NodeJS.ProcessEnv, cwd: string): { options: DeleteOptions; warnings: string[] } {
  const f = args.flags;
  const warnings: string[] = [];
  const { str, bool } = flagReaders(f);
  const { workspace, logLevel, cacheFlag } = environmentFlags(f, env);
  const generate = bool('generate', false);
  const config = str('config');
  const deleteYamlFile = str('delete-yaml-file');

  if (generate && workspace === undefined) throw new UsageError('use the --workspace flag, it is mandatory when using the delete command with the --generate flag');
  if (generate && !config) throw new UsageError('the --config flag is mandatory when used with the --generate flag');
  if (!generate && !deleteYamlFile) throw new UsageError('the --delete-yaml-file flag is mandatory when not using the --generate flag');
  if (args.positional.length === 0) throw new UsageError('the destination registry is missing in the command arguments');
  if (args.positional.length > 1) throw new UsageError(`unexpected argument "${args.positional[1]}": give exactly one destination`);
  const destination = args.positional[0]!;
  if (!destination.startsWith('docker://')) throw new UsageError('the destination registry argument must have a docker:// protocol prefix');
  parseRegistryLocation(destination);
  const listPath = deleteYamlFile !== undefined ? resolve(cwd, deleteYamlFile) : undefined;
  if (!generate && listPath && !(existsSync(listPath) && statSync(listPath).isFile())) throw new UsageError(`file not found ${deleteYamlFile}`);

  const parallel = parallelFlags(f);
  const engine = engineFlags(f, env, cwd, cacheFlag);
  const maxNestedPaths = maxNestedPathsFlag(f);
  const deleteId = str('delete-id');
  if (deleteId !== undefined && !DELETE_ID.test(deleteId)) {
    throw new UsageError(`the flag delete-id "${deleteId}" must be letters, digits, '.', '_' or '-' (it names files)`);
  }
  const dryRun = bool('dry-run', false);
  const forceCacheDelete = bool('force-cache-delete', false);
  const unused = (flag: string, phase: string) => warnings.push(`--${flag} is not used ${phase}`);
  if (generate) {
    if (deleteYamlFile !== undefined) unused('delete-yaml-file', 'with --generate');
    if (dryRun) unused('dry-run', 'with --generate, which deletes nothing');
    if (forceCacheDelete) unused('force-cache-delete', 'with --generate: pass it when deleting from the list');
  } else {
    if (config) unused('config', 'when deleting from a list');
    if (workspace !== undefined) unused('workspace', 'when deleting from a list');
    if (deleteId !== undefined) unused('delete-id', 'when deleting from a list');
    if (maxNestedPaths) unused('max-nested-paths', 'when deleting from a list (the list names the destinations)');
  }

  // ref §1.6: a workspace whose basename already is working-dir is used as it is.
  const wsPath = generate ? resolve(cwd, workspace!.slice('file://'.length)) : undefined;
  const workingDir = wsPath ? (basename(wsPath) === 'working-dir' ? wsPath : join(wsPath, 'working-dir')) : '';
  const options: DeleteOptions = {
    engine: {
      // oc-mirror runs the collectors of a delete in disk-to-mirror mode (ref §11.1)
      workflow: 'diskToMirror',
      configPath: generate ? resolve(cwd, config!) : '',
      destination,
      workingDir,
      dryRun,
      ...parallel,
      imageTimeoutMs: 600_000,
      ...engine,
      maxNestedPaths,
      logLevel,
      quiet: false,
      strictArchive: false,
    },
    destination,
    generate,
    ...(listPath && !generate && { deleteYamlFile: listPath }),
    ...(deleteId !== undefined && generate && { deleteId }),
    deleteSignatures: bool('delete-signatures', false),
    forceCacheDelete: forceCacheDelete && !generate,
    dryRun: dryRun && !generate,
  };
  return { options, warnings };
}
