import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { EOL } from 'node:os';
import { OcMirrorError } from '../errors.js';
import type { RunReport } from '../outputs/report.js';
import type { ActionName } from './actions.js';
import type { SecretRegistry } from './secrets.js';

export interface OutputSpec {
  name: string;
  description: string;
}

const IMAGES = { name: 'images', description: 'number of images now at the destination (copied in this run or already there)' };
const FAILED = { name: 'failed', description: 'number of images that could not be mirrored (failed, or skipped because of a failure)' };
const CLUSTER_RESOURCES = {
  name: 'cluster-resources',
  description: 'absolute path of the directory holding the cluster resources (ImageDigestMirrorSet, ImageTagMirrorSet…) to apply',
};
const BYTES = { name: 'bytes', description: 'bytes transferred' };

/** The outputs each action declares: the source the action.yml files and the README are generated from. */
export const ACTION_OUTPUTS: Readonly<Record<ActionName, readonly OutputSpec[]>> = {
  plan: [
    { name: 'images', description: 'number of images the plan would mirror' },
    { name: 'mapping', description: 'absolute path of mapping.txt (source=destination per image)' },
    { name: 'matrix', description: 'the shards as a job matrix, {"include":[{"shard":"1/N"},…]}, to give strategy.matrix through fromJSON' },
  ],
  mirror: [IMAGES, FAILED, BYTES, CLUSTER_RESOURCES],
  pack: [
    { name: 'archives', description: 'the archive files written, as a JSON array of absolute paths' },
    { name: 'artifact-name', description: 'name of the artifact the archives were uploaded as' },
    { name: 'bytes', description: 'total size of the archive files' },
  ],
  push: [IMAGES, FAILED, BYTES, CLUSTER_RESOURCES],
  delete: [
    { name: 'images', description: 'number of images listed for deletion (generate) or deleted' },
    { name: 'delete-yaml-file', description: 'absolute path of the generated delete list (generate)' },
  ],
};

/** Counts and bytes, paths, and lists (written as JSON arrays). */
export type OutputValue = string | number | readonly string[];

const OUTPUT_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** An output's text: whole numbers in decimal, lists as JSON arrays, strings as they are. */
export function formatOutputValue(name: string, value: OutputValue): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new OcMirrorError(`output "${name}": ${value} is not a whole number`);
    return String(value);
  }
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/**
 * The `GITHUB_OUTPUT` text for some outputs, in the runner's `name<<delimiter` form, which keeps
 * values with newlines intact. Refuses, before anything is written, a bad name, a value holding
 * the delimiter, and a name or value holding a registered secret: outputs are not masked.
 */
export function renderOutputs(
  values: Readonly<Record<string, OutputValue>>,
  secrets?: SecretRegistry,
  delimiter = `ghadelimiter_${randomUUID()}`,
): string {
  let text = '';
  for (const [name, value] of Object.entries(values)) {
    if (!OUTPUT_NAME.test(name)) throw new OcMirrorError(`output "${name}": not a valid output name`);
    const formatted = formatOutputValue(name, value);
    if (formatted.includes(delimiter)) throw new OcMirrorError(`output "${name}": the value contains the delimiter`);
    if (secrets?.foundIn(name) || secrets?.foundIn(formatted)) throw new OcMirrorError(`output "${name}": refused, the value contains a secret`);
    text += `${name}<<${delimiter}${EOL}${formatted}${EOL}${delimiter}${EOL}`;
  }
  return text;
}

export interface WriteOutputsOptions {
  /** default `$GITHUB_OUTPUT` */
  file?: string;
  secrets?: SecretRegistry;
  env?: NodeJS.ProcessEnv;
}

/** Appends outputs to the runner's output file, all in one write. */
export function writeOutputs(values: Readonly<Record<string, OutputValue>>, options: WriteOutputsOptions = {}): void {
  const file = options.file ?? (options.env ?? process.env).GITHUB_OUTPUT;
  if (!file) throw new OcMirrorError('GITHUB_OUTPUT is not set: outputs can only be written in a GitHub Actions step');
  const text = renderOutputs(values, options.secrets);
  appendFileSync(file, text, { encoding: 'utf8' });
}

/** `images`, `failed`, `bytes` of a copy run (mirror, push). */
export function copyCounts(report: RunReport): { images: number; failed: number; bytes: number } {
  let images = 0;
  let bytes = 0;
  for (const image of report.images) {
    if (image.status === 'mirrored' || image.status === 'present') images++;
    bytes += image.bytes ?? 0;
  }
  return { images, failed: report.images.length - images, bytes };
}
