/**
 * Which external programs the integration tests need, and the skip/fail rule for their absence:
 * on a developer machine without them the tests are SKIPPED with a notice (so `npm test` stays
 * usable), but with CI=true a missing tool is a FAILURE (a green CI that silently skipped every
 * integration test would prove nothing).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';

export interface ToolPaths {
  /** CNCF distribution ("docker-registry" on Debian, "registry" upstream) */
  registry: string;
  skopeo: string;
  /** makes the TLS and token-signing certificates */
  openssl: string;
}

export type Availability = { ok: true; tools: ToolPaths } | { ok: false; reason: string };

/** True when running under CI, where missing tools must fail rather than skip. */
export function isCI(): boolean {
  const v = (process.env.CI ?? '').toLowerCase();
  return v === 'true' || v === '1';
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Like `command -v`: an explicit path is checked as is, a bare name is looked up on PATH. */
export function findExecutable(name: string): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

let cached: Availability | undefined;

/**
 * Looks the tools up once per process. OCM_TEST_REGISTRY_BIN / OCM_TEST_SKOPEO_BIN override the
 * names (e.g. an upstream `registry` binary somewhere else).
 */
export function integrationAvailable(): Availability {
  if (cached) return cached;
  const registryNames = process.env.OCM_TEST_REGISTRY_BIN
    ? [process.env.OCM_TEST_REGISTRY_BIN]
    : ['docker-registry', 'registry'];
  const registry = registryNames.map(findExecutable).find((p) => p !== undefined);
  const skopeo = findExecutable(process.env.OCM_TEST_SKOPEO_BIN ?? 'skopeo');
  const openssl = findExecutable('openssl');
  const missing: string[] = [];
  if (!registry) missing.push(`${registryNames.join('/')} (CNCF distribution, Debian package docker-registry)`);
  if (!skopeo) missing.push('skopeo');
  if (!openssl) missing.push('openssl');
  cached =
    registry && skopeo && openssl
      ? { ok: true, tools: { registry, skopeo, openssl } }
      : { ok: false, reason: `not found on PATH: ${missing.join(', ')}` };
  return cached;
}

/** The tool paths, or a thrown error naming what is missing (for support code that needs them). */
export function requireTools(): ToolPaths {
  const a = integrationAvailable();
  if (!a.ok) throw new Error(`integration tools missing: ${a.reason}`);
  return a.tools;
}

let noticePrinted = false;

function notice(reason: string): string {
  const text = `integration tests SKIPPED: ${reason}. Install them (apt-get install docker-registry skopeo openssl) to run these tests; with CI=true this is a failure.`;
  if (!noticePrinted) {
    noticePrinted = true;
    process.stderr.write(`\n*** ${text}\n\n`);
  }
  return text;
}

function missingInCI(reason: string): Error {
  return new Error(`integration tools missing under CI=true (not skipping): ${reason}`);
}

/**
 * For use at the top of an integration test:
 *   `if (!skipUnlessIntegration(t)) return;`
 * Returns true when the test can go on. Otherwise marks it skipped (with a one-time notice on
 * stderr) and returns false, or under CI throws so that the test fails.
 */
export function skipUnlessIntegration(t: Pick<TestContext, 'skip'>): boolean {
  const a = integrationAvailable();
  if (a.ok) return true;
  if (isCI()) throw missingInCI(a.reason);
  t.skip(notice(a.reason));
  return false;
}

/**
 * For a whole suite: `describe('x', integrationSuite(), () => { ... })`.
 * Returns `{ skip: reason }` when tools are missing (the suite and its hooks do not run), `{}` when
 * they are present; under CI with tools missing it throws while the test file loads, which fails
 * the file with the reason as its error.
 */
export function integrationSuite(): { skip?: string } {
  const a = integrationAvailable();
  if (a.ok) return {};
  if (isCI()) throw missingInCI(a.reason);
  return { skip: notice(a.reason) };
}
