/**
 * Test support for the local store: copying registry images into a store with the real copy
 * engine (in this process or in a child process that a test can kill), and an integrity check
 * of a store directory written independently of the store's own code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CopyEngine, type Endpoints, type TaskOutcome } from '../../src/copy/engine.js';
import type { ImageReference } from '../../src/image/reference.js';
import type { ImageDestination, ImageSource } from '../../src/image/transport.js';
import type { CopyTask } from '../../src/plan/types.js';
import { RegistryEndpoints } from '../../src/registry/endpoints.js';
import type { LocalStore } from '../../src/store/store.js';
import { trackChild } from './cleanup.js';

/** Registry images as sources (plain HTTP test registries), the store as the destination. */
export class RegistryToStore implements Endpoints {
  private readonly registries = new RegistryEndpoints(
    { tlsVerify: false, credentials: async () => undefined, connections: 32, uploadChunkSize: 0 },
    { tlsVerify: false, credentials: async () => undefined, connections: 1, uploadChunkSize: 0 },
  );

  constructor(private readonly store: LocalStore) {}

  source(ref: ImageReference): ImageSource {
    return this.registries.source(ref);
  }

  destination(ref: ImageReference): ImageDestination {
    if (ref.registry !== this.store.host) throw new Error(`destination ${ref.registry} is not the store's host ${this.store.host}`);
    return this.store.repository(ref.repository);
  }

  close(): Promise<void> {
    return this.registries.close();
  }
}

/** One store read as a source, another written as the destination. */
export class StoreToStore implements Endpoints {
  constructor(
    private readonly from: LocalStore,
    private readonly to: LocalStore,
  ) {}

  source(ref: ImageReference): ImageSource {
    return this.from.repository(ref.repository);
  }

  destination(ref: ImageReference): ImageDestination {
    return this.to.repository(ref.repository);
  }
}

export function copyTask(source: string, destination: string): CopyTask {
  return { source, destination, kind: 'generic', origin: 'additional' };
}

export interface CopyRun {
  parallelImages?: number;
  parallelLayers?: number;
}

export async function copyWithEngine(endpoints: Endpoints, tasks: CopyTask[], run: CopyRun = {}): Promise<TaskOutcome[]> {
  const engine = new CopyEngine(endpoints, {
    parallelImages: run.parallelImages ?? 4,
    parallelLayers: run.parallelLayers ?? 4,
    imageTimeoutMs: 300_000,
    retryTimes: 0,
    retryDelayMs: 0,
  });
  return engine.run(tasks);
}

/** Throws with every failed task's error. */
export function assertAllCopied(outcomes: TaskOutcome[]): void {
  const failed = outcomes.filter((o) => !o.ok).map((o) => `${o.task.source}: ${o.ok ? '' : o.error}`);
  if (failed.length > 0) throw new Error(`copies failed:\n${failed.join('\n')}`);
}

// ---------------------------------------------------------------------------------------------
// A copy in a child process

/** What `store-copy-child.ts` is given on its command line (as JSON). */
export interface ChildCopyArgs extends CopyRun {
  storeRoot: string;
  storeHost: string;
  tasks: CopyTask[];
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningChild {
  child: ChildProcess;
  done: Promise<ChildResult>;
}

const CHILD_SCRIPT = fileURLToPath(new URL('./store-copy-child.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function startCopyChild(args: ChildCopyArgs): RunningChild {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT, JSON.stringify(args)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

// ---------------------------------------------------------------------------------------------
// Integrity of a store directory

const V2 = 'docker/registry/v2';
const LINK_RE = /^sha256:[a-f0-9]{64}$/;

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((p) => join(dir, p))
    .filter((p) => statSync(p).isFile());
}

export interface StoreIntegrity {
  /** every problem found; empty when the store is sound */
  problems: string[];
  /** digests of every blob data file */
  blobs: Set<string>;
}

/**
 * Checks a store directory by reading its files (not through LocalStore):
 *  - every `blobs/**\/data` hashes to the digest its path names, and nothing else lives there;
 *  - every link holds a digest whose data exists; a layer, revision or tag index link holds the
 *    digest its own path names;
 *  - every tag's current link names a manifest the repository has (revision link + data);
 *  - nothing under `docker/` but `data` and `link` files.
 */
export async function checkStoreIntegrity(root: string): Promise<StoreIntegrity> {
  const problems: string[] = [];
  const blobs = new Set<string>();
  for (const path of files(join(root, V2, 'blobs'))) {
    const rel = relative(join(root, V2, 'blobs'), path).split('\\').join('/');
    const m = /^sha256\/([a-f0-9]{2})\/([a-f0-9]{64})\/data$/.exec(rel);
    if (!m || !m[2]!.startsWith(m[1]!)) {
      problems.push(`unexpected file in blobs/: ${rel}`);
      continue;
    }
    const digest = `sha256:${m[2]}`;
    const actual = await sha256File(path);
    if (actual !== digest) problems.push(`blob ${digest} holds content with digest ${actual} (${statSync(path).size} bytes)`);
    else blobs.add(digest);
  }
  const reposDir = join(root, V2, 'repositories');
  for (const path of files(reposDir)) {
    const rel = relative(reposDir, path).split('\\').join('/');
    if (!rel.endsWith('/link')) {
      problems.push(`unexpected file in repositories/: ${rel}`);
      continue;
    }
    const content = readFileSync(path, 'utf8');
    if (!LINK_RE.test(content)) {
      problems.push(`${rel} holds "${content.slice(0, 80)}", not a digest`);
      continue;
    }
    if (!blobs.has(content)) problems.push(`${rel} links ${content}, whose data is missing`);
    const named = /\/(?:_layers|_manifests\/revisions|_manifests\/tags\/[^/]+\/index)\/sha256\/([a-f0-9]{64})\/link$/.exec(rel);
    if (named && `sha256:${named[1]}` !== content) problems.push(`${rel} holds ${content}, not the digest of its path`);
    const tag = /^(.+)\/_manifests\/tags\/[^/]+\/current\/link$/.exec(rel);
    if (tag) {
      const revision = join(reposDir, tag[1]!, '_manifests/revisions/sha256', content.slice(7), 'link');
      if (!existsSync(revision)) problems.push(`${rel} points at ${content}, which the repository has no revision link for`);
    }
  }
  return { problems, blobs };
}

/** GETs of a blob in a registry's access log (`"GET /v2/<repo>/blobs/<digest> HTTP`). */
export function blobGets(log: string, repo: string, digest: string): number {
  const needle = `"GET /v2/${repo}/blobs/${digest} HTTP`;
  return log.split(needle).length - 1;
}
