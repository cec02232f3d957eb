import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deleteOptions } from '../cli/delete-command.js';
import { parseArgs } from '../cli/flags.js';
import type { DeleteOptions } from '../delete/options.js';
import { MIRROR_FLAGS, mirrorOptions } from '../cli/mirror-command.js';
import { archiveSize as checkArchiveSize } from '../config/checks.js';
import { UsageError } from '../errors.js';
import type { MirrorOptions } from '../options.js';
import type { ActionName } from './actions.js';
import { authDocument, type CredentialInputs } from './credentials.js';
import { ACTION_INPUTS, isLiteralDefault, PLAN_PLACEHOLDER_DESTINATION, type InputSpec } from './input-table.js';
import { ACTION_DELETE_FLAGS } from './pending-cli-flags.js';
import { SecretRegistry } from './secrets.js';
import { parseShard, parseShardCount, type Shard } from './shards.js';

/** What the inputs of an action that runs the mirror engine resolve to. */
export interface EngineInputs {
  /**
   * The CLI arguments the inputs stand for: `oc-mirror <argv>` validates and runs the same way
   * (apart from credentials, which never appear in arguments). Worth logging.
   */
  argv: string[];
  /** as the CLI's validation produced them; `authfile` is left for the credentials step to set */
  options: MirrorOptions;
  warnings: string[];
  credentials: CredentialInputs;
  /** every secret read so far, for masking and for refusing outputs that hold one */
  secrets: SecretRegistry;
  /** values of flags the CLI does not have yet (see pending-cli-flags.ts) */
  archiveSizeGiB?: number;
  /** absolute path */
  registriesConf?: string;
}

export interface PlanInputs extends EngineInputs {
  action: 'plan';
  shards: number;
  planArtifact: string;
  /** false: options.destination is PLAN_PLACEHOLDER_DESTINATION */
  destinationGiven: boolean;
}

export interface MirrorInputs extends EngineInputs {
  action: 'mirror';
  /** undefined: the whole plan */
  shard?: Shard;
  planArtifact: string;
  /** merge the shard jobs' cluster resources instead of copying */
  mergeShards: boolean;
}

export interface PackInputs extends EngineInputs {
  action: 'pack';
  artifactName: string;
  cacheKeyPrefix: string;
}

/** Where push reads archives: options.fromDir either way; an artifact is downloaded there first. */
export type ArchiveSource =
  | { kind: 'directory'; path: string }
  | { kind: 'artifact'; name: string; path: string; runId?: number; repository?: string; githubToken?: string };

export interface PushInputs extends EngineInputs {
  action: 'push';
  archives: ArchiveSource;
}

/** Delete inputs resolve through the CLI's delete parser and validation, as `oc-mirror delete <argv>`. */
export interface DeleteInputs {
  action: 'delete';
  argv: string[];
  options: DeleteOptions;
  warnings: string[];
  destination: string;
  credentials: CredentialInputs;
  secrets: SecretRegistry;
  registriesConf?: string;
}

export interface InputsByAction {
  plan: PlanInputs;
  mirror: MirrorInputs;
  pack: PackInputs;
  push: PushInputs;
  delete: DeleteInputs;
}

export type ActionInputs = InputsByAction[ActionName];

export interface ReadInputsOptions {
  /** what relative paths are resolved against; default $GITHUB_WORKSPACE, else the current directory */
  cwd?: string;
  /** default: a registry masking with core.setSecret */
  secrets?: SecretRegistry;
}

/** Stands for the CLI's destination argument in the record of which input gave which argument. */
const DESTINATION_ARGUMENT = '<destination>';

/**
 * Reads an action's inputs from `INPUT_<NAME>` variables (getInput's naming and trimming, with the
 * table's literal defaults), masks secrets, turns the rest into the CLI's arguments and resolves
 * them with the CLI's own parser and validation, so both front ends accept and refuse the same
 * things. A bad input is a one-line UsageError that starts with `input "<name>": `.
 */
export function readInputs<A extends ActionName>(action: A, env: NodeJS.ProcessEnv = process.env, opts: ReadInputsOptions = {}): InputsByAction[A] {
  const specs = ACTION_INPUTS[action];
  const secrets = opts.secrets ?? new SecretRegistry();
  const cwd = opts.cwd ?? (env.GITHUB_WORKSPACE || process.cwd());
  const raw = new Map(specs.map((spec) => [spec.name, (env[inputVariable(spec.name)] ?? '').trim()]));
  // Secrets first of all, so that no message about any input can show one unmasked.
  for (const spec of specs) if (spec.kind === 'secret') secrets.add(raw.get(spec.name));
  const credentials: CredentialInputs = {
    ...given('authJson', raw.get('auth-json')),
    ...given('registry', raw.get('registry')),
    ...given('username', raw.get('username')),
    ...given('password', raw.get('password')),
  };
  // Checked (and auth-json masked) now rather than when the authfile is written: a bad credential
  // input fails before any work.
  authDocument(credentials, secrets);
  const values = readValues(specs, raw);

  const args = new CliArguments();
  for (const spec of specs) {
    const value = values.get(spec.name);
    if (value === undefined) continue;
    if (spec.flag) args.flag(spec.flag, value, spec.name);
    if (spec.destinationArgument) args.destination(value, spec.name);
  }

  switch (action) {
    case 'plan': {
      args.flag('dry-run', 'true');
      const destinationGiven = values.has('destination');
      if (!destinationGiven) args.destination(PLAN_PLACEHOLDER_DESTINATION, 'destination');
      const engine = engineInputs(args, env, cwd, credentials, secrets);
      const shards = onInput('shards', () => parseShardCount(values.get('shards') ?? '1'));
      const planArtifact = onInput('plan-artifact', () => checkArtifactName(values.get('plan-artifact')!));
      return { action, ...engine, shards, planArtifact, destinationGiven } satisfies PlanInputs as InputsByAction[A];
    }
    case 'mirror': {
      const engine = engineInputs(args, env, cwd, credentials, secrets);
      const shardText = values.get('shard');
      const shard = shardText === undefined ? undefined : onInput('shard', () => parseShard(shardText));
      const planArtifact = onInput('plan-artifact', () => checkArtifactName(values.get('plan-artifact')!));
      const mergeShards = values.get('merge-shards') === 'true';
      if (mergeShards && shard) throw new UsageError('input "merge-shards": a merge step takes no shard (it merges all of them)');
      return { action, ...engine, ...(shard && { shard }), planArtifact, mergeShards } satisfies MirrorInputs as InputsByAction[A];
    }
    case 'pack': {
      const engine = engineInputs(args, env, cwd, credentials, secrets);
      const artifactName = onInput('artifact-name', () => checkArtifactName(values.get('artifact-name')!));
      const cacheKeyPrefix = onInput('cache-key-prefix', () => checkCacheKeyPrefix(values.get('cache-key-prefix')!));
      return { action, ...engine, artifactName, cacheKeyPrefix } satisfies PackInputs as InputsByAction[A];
    }
    case 'push':
      return pushInputs(values, args, env, cwd, credentials, secrets) as InputsByAction[A];
    case 'delete':
      if (values.get('generate') === 'true' && !values.has('workspace')) {
        throw new UsageError('input "workspace": required with generate (the workspace of the mirror run that wrote the images)');
      }
      return deleteInputs(args, env, cwd, credentials, secrets) as InputsByAction[A];
  }
  throw new Error(`unknown action ${String(action)}`);
}

function given<K extends keyof CredentialInputs>(key: K, value: string | undefined): Partial<CredentialInputs> {
  return value ? { [key]: value } : {};
}

/** The inputs' text with the table's literal defaults, normalised per kind; absent inputs are left out. */
function readValues(specs: readonly InputSpec[], raw: ReadonlyMap<string, string>): Map<string, string> {
  const values = new Map<string, string>();
  for (const spec of specs) {
    let value = raw.get(spec.name)!;
    if (value === '' && isLiteralDefault(spec.default)) value = spec.default;
    if (value === '') {
      if (spec.required) throw new UsageError(`input "${spec.name}": required, and not given`);
      continue;
    }
    values.set(spec.name, normalise(spec, value));
  }
  return values;
}

/** `core.getInput`'s variable: `INPUT_` and the name upper-cased, spaces as `_`, hyphens kept. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

const YAML_TRUE = ['true', 'True', 'TRUE'];
const YAML_FALSE = ['false', 'False', 'FALSE'];
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

function normalise(spec: InputSpec, value: string): string {
  switch (spec.kind) {
    case 'boolean':
      if (YAML_TRUE.includes(value)) return 'true';
      if (YAML_FALSE.includes(value)) return 'false';
      throw new UsageError(`input "${spec.name}": "${value}" is not a boolean (true | True | TRUE | false | False | FALSE)`);
    case 'directory':
      if (value.startsWith('file://')) return value;
      if (SCHEME.test(value)) throw new UsageError(`input "${spec.name}": must be a directory, a path or file://<path>`);
      return `file://${value}`;
    case 'registry':
      if (value.startsWith('docker://')) return value;
      if (SCHEME.test(value)) throw new UsageError(`input "${spec.name}": must be a registry, host[:port][/prefix] or docker://host[:port][/prefix]`);
      return `docker://${value}`;
    default:
      return value;
  }
}

/** The CLI arguments being built, and which input gave each flag, to name it when the CLI refuses one. */
class CliArguments {
  private readonly flags: string[] = [];
  private destinationValue: string | undefined;
  readonly provenance = new Map<string, string>();

  /** `input` is undefined for a flag the action always sets, which no user input is to blame for. */
  flag(name: string, value: string, input?: string): void {
    // Always `--name=value`: a value that starts with `-` must not read as another flag.
    this.flags.push(`--${name}=${value}`);
    if (input !== undefined) this.provenance.set(name, input);
  }

  destination(value: string, input: string): void {
    this.destinationValue = value;
    this.provenance.set(DESTINATION_ARGUMENT, input);
  }

  get destinationArgument(): string | undefined {
    return this.destinationValue;
  }

  /** After `--`, so a destination starting with `-` stays an argument. */
  argv(): string[] {
    return this.destinationValue === undefined ? [...this.flags] : [...this.flags, '--', this.destinationValue];
  }

  /** Runs the CLI's parsing or validation and names the input its UsageError is about. */
  blame<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      const input = this.inputAtFault(err.message);
      throw input === undefined ? err : new UsageError(`input "${input}": ${err.message}`);
    }
  }

  /**
   * The CLI's messages name flags (`--from`, `the flag parallel-images`, `invalid log-level`) or
   * the destination; the first one mentioned is the one at fault.
   */
  private inputAtFault(message: string): string | undefined {
    let found: { at: number; input: string } | undefined;
    for (const [flag, input] of this.provenance) {
      const needle = flag === DESTINATION_ARGUMENT ? 'destination' : flag.includes('-') ? flag : `--${flag}`;
      const at = message.indexOf(needle);
      if (at >= 0 && (!found || at < found.at)) found = { at, input };
    }
    return found?.input;
  }
}

function engineInputs(
  args: CliArguments,
  env: NodeJS.ProcessEnv,
  cwd: string,
  credentials: CredentialInputs,
  secrets: SecretRegistry,
): EngineInputs {
  const argv = args.argv();
  const parsed = args.blame(() => parseArgs(argv, MIRROR_FLAGS));
  const archiveSize = parsed.flags['archive-size'];
  const problem = typeof archiveSize === 'number' ? checkArchiveSize(archiveSize) : undefined;
  if (problem) throw new UsageError(`input "archive-size": ${problem}`);
  const { options, warnings } = args.blame(() => mirrorOptions(parsed, env, cwd));
  return {
    argv,
    options,
    warnings,
    credentials,
    secrets,
    ...(options.archiveSizeGiB !== undefined && { archiveSizeGiB: options.archiveSizeGiB }),
    ...(options.registriesConf !== undefined && { registriesConf: options.registriesConf }),
  };
}

function pushInputs(
  values: Map<string, string>,
  args: CliArguments,
  env: NodeJS.ProcessEnv,
  cwd: string,
  credentials: CredentialInputs,
  secrets: SecretRegistry,
): PushInputs {
  const fromGiven = values.has('from');
  let artifact: Omit<Extract<ArchiveSource, { kind: 'artifact' }>, 'path'> | undefined;
  if (!fromGiven) {
    const name = values.get('artifact-name');
    if (name === undefined) throw new UsageError('input "from": required when artifact-name is empty');
    const runIdText = values.get('run-id');
    const repository = values.get('repository');
    if (runIdText !== undefined && !/^\d+$/.test(runIdText)) throw new UsageError(`input "run-id": "${runIdText}" is not a workflow run id (digits)`);
    if (repository !== undefined && !/^[\w.-]+\/[\w.-]+$/.test(repository)) throw new UsageError(`input "repository": "${repository}" is not owner/name`);
    if (repository !== undefined && runIdText === undefined) throw new UsageError('input "run-id": required with "repository"');
    const githubToken = values.get('github-token');
    artifact = {
      kind: 'artifact',
      name: onInput('artifact-name', () => checkArtifactName(name)),
      ...(runIdText !== undefined && { runId: Number(runIdText) }),
      ...(repository !== undefined && { repository }),
      ...(githubToken !== undefined && { githubToken }),
    };
    // A fixed directory under the runner's temp, not named after the artifact: an artifact named
    // like one of oc-mirror's internal directories would otherwise be refused as a --from path.
    args.flag('from', `file://${join(env.RUNNER_TEMP || tmpdir(), 'oc-mirror-artifact')}`, 'artifact-name');
  }
  const engine = engineInputs(args, env, cwd, credentials, secrets);
  const path = engine.options.fromDir!;
  return { action: 'push', ...engine, archives: artifact ? { ...artifact, path } : { kind: 'directory', path } };
}

function deleteInputs(args: CliArguments, env: NodeJS.ProcessEnv, cwd: string, credentials: CredentialInputs, secrets: SecretRegistry): DeleteInputs {
  const argv = ['delete', ...args.argv()];
  const parsed = args.blame(() => parseArgs(argv.slice(1), [...ACTION_DELETE_FLAGS]));
  const { options, warnings } = args.blame(() => deleteOptions(parsed, env, cwd));
  const registriesConf = parsed.flags['registries-conf'];
  return {
    action: 'delete',
    argv,
    options,
    warnings,
    destination: args.destinationArgument!,
    credentials,
    secrets,
    ...(typeof registriesConf === 'string' && { registriesConf: resolve(cwd, registriesConf) }),
  };
}

/** Runs a check of one of the actions' own inputs and names the input in its error. */
function onInput<T>(input: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof UsageError && !err.message.startsWith('input "')) throw new UsageError(`input "${input}": ${err.message}`);
    throw err;
  }
}

/** Characters @actions/artifact refuses in a name (NTFS limits, path separators). */
const ARTIFACT_NAME_FORBIDDEN = ['"', ':', '<', '>', '|', '*', '?', '\r', '\n', '\\', '/'];

function checkArtifactName(name: string): string {
  const bad = ARTIFACT_NAME_FORBIDDEN.find((c) => name.includes(c));
  if (bad !== undefined) throw new UsageError(`${JSON.stringify(name)} cannot be an artifact name: it contains ${JSON.stringify(bad)}`);
  return name;
}

/** Cache keys are at most 512 characters and cannot contain commas; the rest of the key needs room. */
const MAX_CACHE_KEY_PREFIX = 256;

function checkCacheKeyPrefix(prefix: string): string {
  if (prefix.includes(',')) throw new UsageError('cannot contain a comma (cache keys cannot)');
  if (prefix.length > MAX_CACHE_KEY_PREFIX) throw new UsageError(`is longer than ${MAX_CACHE_KEY_PREFIX} characters`);
  return prefix;
}
