import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DefaultArtifactClient, type Artifact, type FindOptions } from '@actions/artifact';
import { errorMessage, OcMirrorError } from '../errors.js';

/** Whether this step can reach the artifact service (a JavaScript action step on a runner). */
export function artifactsAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.ACTIONS_RUNTIME_TOKEN && env.ACTIONS_RESULTS_URL);
}

/** Another workflow run to read artifacts from (push's run-id / repository / github-token). */
export interface OtherRun {
  runId: number;
  /** owner/name; default this repository */
  repository?: string;
  githubToken?: string;
}

function findBy(run: OtherRun | undefined, env: NodeJS.ProcessEnv): FindOptions | undefined {
  if (!run) return undefined;
  const repository = run.repository ?? env.GITHUB_REPOSITORY ?? '';
  const [owner, name] = repository.split('/');
  if (!owner || !name) throw new OcMirrorError('cannot read artifacts of another run: GITHUB_REPOSITORY is not set; give the repository input');
  if (!run.githubToken) throw new OcMirrorError('input "github-token": required to download an artifact of another run');
  return { findBy: { token: run.githubToken, workflowRunId: run.runId, repositoryOwner: owner, repositoryName: name } };
}

/**
 * Uploads each file as an artifact of its own, unzipped, named `<prefix>-<file name>`: an archive
 * is a tar already, and a raw artifact downloads from the run page as the tar itself. The name of
 * a raw artifact is its file name, so the files are linked under their artifact names first.
 */
export async function uploadRawFiles(prefix: string, files: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const client = new DefaultArtifactClient();
  const staging = mkdtempSync(join(env.RUNNER_TEMP || tmpdir(), 'oc-mirror-upload-'));
  const names: string[] = [];
  try {
    for (const file of files) {
      const name = `${prefix}-${basename(file)}`;
      const link = join(staging, name);
      symlinkSync(file, link);
      try {
        await client.uploadArtifact(name, [link], staging, { skipArchive: true });
      } catch (err) {
        throw new OcMirrorError(`uploading ${file} as the artifact "${name}": ${errorMessage(err)}`);
      }
      names.push(name);
    }
    return names;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Uploads files as one zipped artifact (reports, cluster resources, a plan). */
export async function uploadZipped(name: string, files: readonly string[], root: string): Promise<void> {
  try {
    await new DefaultArtifactClient().uploadArtifact(name, [...files], root);
  } catch (err) {
    throw new OcMirrorError(`uploading the artifact "${name}": ${errorMessage(err)}`);
  }
}

/** The artifacts of this run (or another) whose names match, newest upload per name. */
export async function findArtifacts(match: (name: string) => boolean, run?: OtherRun, env: NodeJS.ProcessEnv = process.env): Promise<Artifact[]> {
  const where = run ? `run ${run.runId}${run.repository ? ` of ${run.repository}` : ''}` : 'this workflow run';
  try {
    const { artifacts } = await new DefaultArtifactClient().listArtifacts({ latest: true, ...findBy(run, env) });
    return artifacts.filter((a) => match(a.name)).sort((a, b) => a.name.localeCompare(b.name));
  } catch (err) {
    if (err instanceof OcMirrorError) throw err;
    throw new OcMirrorError(`listing the artifacts of ${where}: ${errorMessage(err)}`);
  }
}

/**
 * Downloads an artifact into `dir` and checks the bytes against the digest the service recorded
 * at upload. A zipped artifact is unpacked there; a raw one is saved under its name.
 */
export async function downloadArtifact(artifact: Artifact, dir: string, run?: OtherRun, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  mkdirSync(dir, { recursive: true });
  let mismatch: boolean | undefined;
  try {
    const result = await new DefaultArtifactClient().downloadArtifact(artifact.id, {
      path: dir,
      ...(artifact.digest && { expectedHash: artifact.digest }),
      ...findBy(run, env),
    });
    mismatch = result.digestMismatch;
  } catch (err) {
    throw new OcMirrorError(`downloading the artifact "${artifact.name}": ${errorMessage(err)}`);
  }
  if (mismatch) throw new OcMirrorError(`the artifact "${artifact.name}" does not match the digest recorded when it was uploaded (${artifact.digest})`);
}

/** Renames a downloaded raw artifact back to its file name (`<prefix>-mirror_000001.tar` → `mirror_000001.tar`). */
export function stripPrefix(dir: string, prefix: string, artifactName: string): string {
  const name = artifactName.slice(prefix.length + 1);
  const target = join(dir, name);
  renameSync(join(dir, artifactName), target);
  return target;
}
