/**
 * A loopback stand-in for the GitHub Actions results service, so the real @actions/cache 6 and
 * @actions/artifact 6 clients can be driven end to end in tests:
 *
 *   /twirp/github.actions.results.api.v1.CacheService/*     cache v2     (actions-cache-service)
 *   /twirp/github.actions.results.api.v1.ArtifactService/*  artifacts v4 (actions-artifact-service)
 *   /devstoreaccount1/<container>/<blob>                     signed blob URLs (actions-blob-store)
 *   /api/repos/…                                             REST used by findBy (actions-github-api)
 *
 * `env` is what a step would see; apply it with withEnv (actions-env) around client calls.
 * Storage lives in a temp dir that stop() removes.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ArtifactService, ARTIFACT_SERVICE, type ArtifactInspector } from './actions-artifact-service.js';
import { BLOB_ACCOUNT, BlobStore } from './actions-blob-store.js';
import { CacheService, CACHE_SERVICE, type CacheInspector } from './actions-cache-service.js';
import { noFaults, takeDownloadFailure, takeRateLimit, takeUploadFailure, type ActionsFaults } from './actions-faults.js';
import { serveGitHubApi } from './actions-github-api.js';
import { CACHE_READ, CACHE_WRITE, makeRuntimeToken, type CacheScope } from './actions-token.js';
import { serveTwirp, TwirpError, type TwirpService } from './actions-twirp.js';
import { makeTrackedDir, removeDir } from './cleanup.js';
import { LOOPBACK } from './ports.js';

export type { ActionsFaults } from './actions-faults.js';
export type { CacheEntryInfo, CacheInspector } from './actions-cache-service.js';
export type { ArtifactInfo, ArtifactInspector } from './actions-artifact-service.js';
export { captureActionsLog, withEnv, type ActionsLog } from './actions-env.js';

const API_PREFIX = '/api';

export interface ActionsServicesOptions {
  /** owner/name; default 'octo-org/mirror-test' */
  repository?: string;
  /** GITHUB_RUN_ID of the default run; default random */
  runId?: number;
  /** GITHUB_REF of the default run; default 'refs/heads/main' */
  ref?: string;
  /** the repository's default branch, whose caches every run may read; default 'main' */
  defaultBranch?: string;
  /** token the REST endpoints accept (findBy.token); default a fixed fake */
  githubToken?: string;
}

/** A job in a workflow run, as a step sees it. */
export interface RunOptions {
  runId?: number;
  attempt?: number;
  /** GITHUB_REF; its cache scope is written to, the default branch only read */
  ref?: string;
  /** false: the token may only read caches (like runs from untrusted events) */
  cacheWrite?: boolean;
}

/** One HTTP request the server saw, for assertions on what the clients actually sent. */
export interface RequestRecord {
  method: string;
  path: string;
  query: URLSearchParams;
  status: number;
}

export interface ActionsServices {
  /** ACTIONS_RESULTS_URL, with the trailing slash the runner gives it */
  url: string;
  /** everything a step needs, for the default run's job */
  env: Record<string, string>;
  /** the same for another job: a different run (new run id) or another ref / permission */
  runEnv(run?: RunOptions): Record<string, string>;
  /** GITHUB_RUN_ID of the default run */
  runId: number;
  repository: string;
  /** token accepted by the REST endpoints (for findBy) */
  githubToken: string;
  cache: CacheInspector;
  artifacts: ArtifactInspector;
  faults: ActionsFaults;
  requests: RequestRecord[];
  stop(): Promise<void>;
}

interface RunRecord {
  runId: number;
  runBackendId: string;
}

export async function startActionsServices(options: ActionsServicesOptions = {}): Promise<ActionsServices> {
  const root = makeTrackedDir('actions');
  const workspace = join(root, 'workspace');
  const runnerTemp = join(root, 'runner-temp');
  await Promise.all([mkdir(workspace), mkdir(runnerTemp)]);

  const repository = options.repository ?? 'octo-org/mirror-test';
  const defaultBranch = options.defaultBranch ?? 'main';
  const githubToken = options.githubToken ?? 'ghs_loopbackTestToken0000000000000000';
  const faults = noFaults();
  const requests: RequestRecord[] = [];
  let origin = '';
  const originOf = (): string => origin;

  const runs = new Map<number, RunRecord>();
  const runFor = (runId: number): RunRecord => {
    let run = runs.get(runId);
    if (!run) {
      run = { runId, runBackendId: randomUUID() };
      runs.set(runId, run);
    }
    return run;
  };
  const runIdOf = (runBackendId: string): number | undefined =>
    [...runs.values()].find((r) => r.runBackendId === runBackendId)?.runId;
  const defaultRunId = options.runId ?? 1_000_000 + Math.floor(Math.random() * 1_000_000);

  const blobs = new BlobStore(join(root, 'store'), {
    uploadFailure: () => takeUploadFailure(faults),
    downloadFailure: () => takeDownloadFailure(faults),
  });
  await blobs.init();
  const cacheService = new CacheService(blobs, faults, originOf);
  const artifactService = new ArtifactService(blobs, faults, originOf, runIdOf, () => defaultRunId);
  const twirpServices = new Map<string, TwirpService>([
    [CACHE_SERVICE, cacheService.twirp],
    [ARTIFACT_SERVICE, artifactService.twirp],
  ]);
  const rateLimitGate = (_service: string, method: string): void => {
    if (takeRateLimit(faults, method)) {
      throw new TwirpError('resource_exhausted', 'rate limit exceeded', { 'retry-after': String(faults.retryAfterSeconds) });
    }
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', origin);
    res.once('finish', () => requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, status: res.statusCode }));
    if (url.pathname.startsWith('/twirp/')) return serveTwirp(req, res, url.pathname, twirpServices, rateLimitGate);
    if (url.pathname.startsWith(`/${BLOB_ACCOUNT}/`)) return blobs.handle(req, res, url);
    if (url.pathname.startsWith(`${API_PREFIX}/`)) {
      return serveGitHubApi(req, res, url, { prefix: API_PREFIX, repository, token: githubToken, origin: originOf }, artifactService);
    }
    req.resume();
    res.writeHead(404, { 'content-length': 0 });
    res.end();
  };

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  origin = `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`;

  const runEnv = (run: RunOptions = {}): Record<string, string> => {
    const runId = run.runId ?? defaultRunId;
    const ref = run.ref ?? `refs/heads/${defaultBranch}`;
    const defaultRef = `refs/heads/${defaultBranch}`;
    const scopes: CacheScope[] = [{ scope: ref, permission: CACHE_READ | (run.cacheWrite === false ? 0 : CACHE_WRITE) }];
    if (ref !== defaultRef) scopes.push({ scope: defaultRef, permission: CACHE_READ });
    const token = makeRuntimeToken({ runBackendId: runFor(runId).runBackendId, jobBackendId: randomUUID(), cacheScopes: scopes }, origin);
    return {
      ACTIONS_CACHE_SERVICE_V2: 'true',
      ACTIONS_RESULTS_URL: `${origin}/`,
      ACTIONS_RUNTIME_TOKEN: token,
      GITHUB_ACTIONS: 'true',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_API_URL: `${origin}${API_PREFIX}`,
      GITHUB_REPOSITORY: repository,
      GITHUB_REPOSITORY_OWNER: repository.split('/')[0]!,
      GITHUB_RUN_ID: String(runId),
      GITHUB_RUN_ATTEMPT: String(run.attempt ?? 1),
      GITHUB_RUN_NUMBER: '1',
      GITHUB_REF: ref,
      GITHUB_REF_NAME: ref.replace(/^refs\/(heads|tags)\//, ''),
      GITHUB_SHA: '0'.repeat(40),
      GITHUB_EVENT_NAME: 'push',
      GITHUB_WORKFLOW: 'mirror',
      GITHUB_JOB: 'mirror',
      GITHUB_WORKSPACE: workspace,
      GITHUB_RETENTION_DAYS: '90',
      RUNNER_TEMP: runnerTemp,
      RUNNER_OS: 'Linux',
      RUNNER_ARCH: 'X64',
    };
  };

  return {
    url: `${origin}/`,
    env: runEnv(),
    runEnv,
    runId: defaultRunId,
    repository,
    githubToken,
    cache: cacheService.inspector,
    artifacts: artifactService.inspector,
    faults,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await removeDir(root);
    },
  };
}
