import type { ActionName } from './actions.js';

/**
 * How an input's text is read before it is handed on:
 * - `text`: as given (trimmed);
 * - `boolean`: a YAML 1.2 core boolean (`true | True | TRUE | false | False | FALSE`), as `core.getBooleanInput`;
 * - `directory`: a path, or `file://<path>` as the CLI writes it;
 * - `registry`: `host[:port][/prefix]`, or `docker://…` as the CLI writes it;
 * - `credential`: kept out of the CLI arguments (registry, username);
 * - `secret`: masked as soon as it is read, and kept out of the CLI arguments;
 * - `auth-json`: a secret document, masked field by field once parsed (credentials.ts): masking
 *   it whole would mask each of its lines, `{` included.
 */
export type InputKind = 'text' | 'boolean' | 'directory' | 'registry' | 'credential' | 'secret' | 'auth-json';

export interface InputSpec {
  /** lower-kebab, as the CLI flag it stands for */
  name: string;
  description: string;
  /** documented and checked by readInputs: the runner does not enforce `required` */
  required: boolean;
  /** a literal, or a `${{ … }}` expression that only the runner evaluates */
  default?: string;
  kind: InputKind;
  /** the CLI flag the value is handed to as `--<flag>=<value>`; inputs without one are the actions' own */
  flag?: string;
  /** the input is the CLI's destination argument */
  destinationArgument?: true;
}

/**
 * Where a plan without a destination input points: `.invalid` is reserved (RFC 2606), so no
 * mapping line can be mistaken for a real registry. A dry run contacts no destination.
 */
export const PLAN_PLACEHOLDER_DESTINATION = 'docker://mirror.invalid';

const CONFIG: InputSpec = {
  name: 'config',
  description: 'Path of the ImageSetConfiguration file, relative to the repository checkout (GITHUB_WORKSPACE).',
  required: true,
  kind: 'text',
  flag: 'config',
};

/** Inputs of every action; the credentials are read into a private authfile, never into arguments. */
const COMMON: readonly InputSpec[] = [
  CONFIG,
  {
    name: 'cache-dir',
    description:
      'Base directory of the local store (kept in <cache-dir>/.oc-mirror/.cache). Default: $OC_MIRROR_CACHE, else $HOME.',
    required: false,
    kind: 'text',
    flag: 'cache-dir',
  },
  { name: 'parallel-images', description: 'Images copied at once, 1 to 10 (default 4).', required: false, kind: 'text', flag: 'parallel-images' },
  { name: 'parallel-layers', description: 'Blobs copied at once per image, 1 to 10 (default 5).', required: false, kind: 'text', flag: 'parallel-layers' },
  {
    name: 'src-tls-verify',
    description: 'Verify TLS of the source registries; false also allows plain HTTP.',
    required: false,
    default: 'true',
    kind: 'boolean',
    flag: 'src-tls-verify',
  },
  {
    name: 'dest-tls-verify',
    description: 'Verify TLS of the destination registry; false also allows plain HTTP.',
    required: false,
    default: 'true',
    kind: 'boolean',
    flag: 'dest-tls-verify',
  },
  {
    name: 'auth-json',
    description:
      'The content (not the path) of an auth.json, {"auths":{"<registry>":{"auth":"<base64 of user:password>"}}}, from a secret. ' +
      'It is masked, written to a private temporary file for the step, and removed when the step ends. ' +
      'Without it and without username/password, credentials come from $REGISTRY_AUTH_FILE or docker login.',
    required: false,
    kind: 'auth-json',
  },
  {
    name: 'registry',
    description: 'Registry that username and password log in to (e.g. quay.io); it replaces the auth-json entry of that registry.',
    required: false,
    kind: 'credential',
  },
  { name: 'username', description: 'User name for registry.', required: false, kind: 'credential' },
  { name: 'password', description: 'Password or token for registry, from a secret; it is masked.', required: false, kind: 'secret' },
  {
    name: 'registries-conf',
    description:
      'Path of a registries.conf (containers format) whose mirrors source pulls go through. Default: $CONTAINERS_REGISTRIES_CONF, else the user and system files.',
    required: false,
    kind: 'text',
    flag: 'registries-conf',
  },
  { name: 'log-level', description: 'info, debug, trace or error.', required: false, default: 'info', kind: 'text', flag: 'log-level' },
];

const WORKSPACE: InputSpec = {
  name: 'workspace',
  description: 'Directory of the oc-mirror workspace (working-dir: logs, mapping, cluster resources), a path or file://<path>.',
  required: false,
  default: 'oc-mirror-workspace',
  kind: 'directory',
  flag: 'workspace',
};

const DESTINATION: InputSpec = {
  name: 'destination',
  description: 'Registry to mirror to, host[:port][/prefix] or docker://host[:port][/prefix].',
  required: true,
  kind: 'registry',
  destinationArgument: true,
};

const MAX_NESTED_PATHS: InputSpec = {
  name: 'max-nested-paths',
  description: 'Flatten destination repository paths to at most this many components (0 = no limit).',
  required: false,
  kind: 'text',
  flag: 'max-nested-paths',
};

/** How copies retry and give up; for the actions that copy. */
const COPY_TUNING: readonly InputSpec[] = [
  {
    name: 'retry-times',
    description: 'Retries of a failed image on network errors, 429 and 5xx (default 5).',
    required: false,
    kind: 'text',
    flag: 'retry-times',
  },
  {
    name: 'retry-delay',
    description: 'Delay between retries, e.g. 10s; 0 = exponential backoff (default 0).',
    required: false,
    kind: 'text',
    flag: 'retry-delay',
  },
  {
    name: 'image-timeout',
    description: 'Time limit for one image including its retries, e.g. 30m (default 10m).',
    required: false,
    kind: 'text',
    flag: 'image-timeout',
  },
];

const ARTIFACT_NAME = 'oc-mirror-archive';

const PLAN_ARTIFACT: InputSpec = {
  name: 'plan-artifact',
  description:
    'Name of the artifact that carries the plan from the plan job to the shard jobs (uploaded by plan when shards > 1) ' +
    'and, with a -shard-i-of-N suffix, each shard\'s cluster resources to the merge-shards step.',
  required: false,
  default: 'oc-mirror-plan',
  kind: 'text',
};

/**
 * Every input of every action: the single source the action.yml files and the README tables are
 * generated from, and what readInputs reads. Order is the documentation order.
 */
export const ACTION_INPUTS: Readonly<Record<ActionName, readonly InputSpec[]>> = {
  plan: [
    ...COMMON,
    WORKSPACE,
    {
      ...DESTINATION,
      required: false,
      description: `${DESTINATION.description} Optional: without it, mapping.txt names destinations under ${PLAN_PLACEHOLDER_DESTINATION}.`,
    },
    {
      name: 'shards',
      description: 'Number of parts (1 to 256) to cut the plan into, balanced by bytes; the matrix output lists them.',
      required: false,
      default: '1',
      kind: 'text',
    },
    PLAN_ARTIFACT,
    MAX_NESTED_PATHS,
  ],
  mirror: [
    ...COMMON,
    DESTINATION,
    WORKSPACE,
    {
      name: 'shard',
      description: 'The part of the plan to mirror, i/N (from the plan action\'s matrix output); empty mirrors everything.',
      required: false,
      kind: 'text',
    },
    PLAN_ARTIFACT,
    {
      name: 'merge-shards',
      description:
        'true: copy nothing; download the cluster resources and reports the shard jobs of this run uploaded and merge them into one set ' +
        '(run it in a job that needs the matrix job).',
      required: false,
      default: 'false',
      kind: 'boolean',
    },
    MAX_NESTED_PATHS,
    ...COPY_TUNING,
  ],
  pack: [
    ...COMMON,
    {
      name: 'path',
      description: 'Directory the archives are written to, a path or file://<path>.',
      required: false,
      default: 'oc-mirror-archive',
      kind: 'directory',
      destinationArgument: true,
    },
    {
      name: 'archive-size',
      description: 'Maximum size of one archive file in GiB; overrides archiveSize of the configuration (0 = the default).',
      required: false,
      kind: 'text',
      flag: 'archive-size',
    },
    {
      name: 'since',
      description: 'yyyy-MM-dd: archive again everything archived since that day.',
      required: false,
      kind: 'text',
      flag: 'since',
    },
    {
      name: 'strict-archive',
      description: 'Fail when a file is larger than archive-size instead of giving it an archive of its own.',
      required: false,
      default: 'false',
      kind: 'boolean',
      flag: 'strict-archive',
    },
    {
      name: 'artifact-name',
      description: 'Name of the artifact the archives are uploaded as.',
      required: false,
      default: ARTIFACT_NAME,
      kind: 'text',
    },
    {
      name: 'cache-key-prefix',
      description: 'Prefix of the keys under which the local store is kept in the Actions cache between runs.',
      required: false,
      default: 'oc-mirror',
      kind: 'text',
    },
    ...COPY_TUNING,
  ],
  push: [
    ...COMMON,
    DESTINATION,
    {
      name: 'from',
      description: 'Directory holding the archives, a path or file://<path>. When set, artifact-name is not used.',
      required: false,
      kind: 'directory',
      flag: 'from',
    },
    {
      name: 'artifact-name',
      description: 'Artifact to download the archives from, when from is not set.',
      required: false,
      default: ARTIFACT_NAME,
      kind: 'text',
    },
    {
      name: 'run-id',
      description: 'Workflow run the artifact was uploaded by (default: this run).',
      required: false,
      kind: 'text',
    },
    {
      name: 'repository',
      description: 'owner/name of the repository of that run (default: this repository); needs run-id.',
      required: false,
      kind: 'text',
    },
    {
      name: 'github-token',
      description: 'Token to download an artifact of another run or repository (actions: read).',
      required: false,
      default: '${{ github.token }}',
      kind: 'secret',
    },
    MAX_NESTED_PATHS,
    ...COPY_TUNING,
  ],
  delete: [
    { ...CONFIG, required: false, description: 'Path of the DeleteImageSetConfiguration file; needed with generate.' },
    ...COMMON.filter((spec) => spec.name !== 'config'),
    DESTINATION,
    {
      name: 'workspace',
      description: 'With generate: the workspace of the mirror run that wrote the images (its working-dir), a path or file://<path>.',
      required: false,
      kind: 'directory',
      flag: 'workspace',
    },
    {
      name: 'generate',
      description: 'true: write the list of images to delete (working-dir/delete/delete-images.yaml); false: delete what delete-yaml-file lists.',
      required: false,
      default: 'false',
      kind: 'boolean',
      flag: 'generate',
    },
    {
      name: 'delete-yaml-file',
      description: 'Path of the delete list written by a generate run; needed without generate.',
      required: false,
      kind: 'text',
      flag: 'delete-yaml-file',
    },
    {
      name: 'delete-id',
      description: 'Suffix of the generated file names (delete-images-<id>.yaml).',
      required: false,
      kind: 'text',
      flag: 'delete-id',
    },
    {
      name: 'dry-run',
      description: 'Without generate: say what would be deleted and delete nothing.',
      required: false,
      default: 'false',
      kind: 'boolean',
      flag: 'dry-run',
    },
  ],
};

/** Whether a default is a literal readInputs can apply itself (an expression is the runner's). */
export function isLiteralDefault(value: string | undefined): value is string {
  return value !== undefined && !value.includes('${{');
}
