/**
 * Shared steps of the mirror-to-mirror integration tests: a hermetic CLI invocation (no user auth
 * files, no proxies), an ISC writer, and registry queries made without our own client.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, type CliResult } from '../support/cli.js';
import { makeTrackedDir } from '../support/cleanup.js';
import type { TestRegistry } from '../support/registry.js';
import { skopeo, accessFlags } from '../support/skopeo.js';

export interface Sandbox {
  dir: string;
  home: string;
}

export function sandbox(): Sandbox {
  const dir = makeTrackedDir('m2m');
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  return { dir, home };
}

export function writeIsc(box: Sandbox, name: string, body: string): string {
  const path = join(box.dir, name);
  writeFileSync(path, `kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\n${body}`);
  return path;
}

export function additionalImages(entries: (string | { name: string; targetRepo?: string; targetTag?: string })[], extra = ''): string {
  const lines = entries.map((e) => {
    if (typeof e === 'string') return `  - name: ${e}`;
    return [`  - name: ${e.name}`, e.targetRepo && `    targetRepo: ${e.targetRepo}`, e.targetTag && `    targetTag: ${e.targetTag}`]
      .filter(Boolean)
      .join('\n');
  });
  return `mirror:\n  additionalImages:\n${lines.join('\n')}\n${extra}`;
}

/** Runs the CLI with HOME in the sandbox, so only the auth files a test names are read. */
export function ocMirror(box: Sandbox, args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runCli(args, {
    cwd: box.dir,
    env: {
      HOME: box.home,
      XDG_RUNTIME_DIR: undefined,
      REGISTRY_AUTH_FILE: undefined,
      DOCKER_CONFIG: undefined,
      HTTP_PROXY: undefined,
      HTTPS_PROXY: undefined,
      http_proxy: undefined,
      https_proxy: undefined,
      CI: 'true',
      ...env,
    },
  });
}

/** Repositories in a registry, from its own catalog API. */
export async function catalog(reg: TestRegistry): Promise<string[]> {
  const res = await fetch(`${reg.url}/v2/_catalog`, {
    headers: reg.username ? { authorization: `Basic ${Buffer.from(`${reg.username}:${reg.password}`).toString('base64')}` } : {},
  }).catch(() => undefined);
  if (!res || !res.ok) return [];
  return ((await res.json()) as { repositories?: string[] }).repositories ?? [];
}

/** Whether skopeo finds a manifest at `ref`. */
export async function exists(ref: string, reg: TestRegistry): Promise<boolean> {
  const r = await skopeo(['inspect', '--raw', ...accessFlags(reg), `docker://${ref}`], { allowFailure: true });
  return r.code === 0;
}

export function describeRun(r: CliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}
