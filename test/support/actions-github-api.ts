/**
 * The few GitHub REST endpoints @actions/artifact calls when `findBy` names another run
 * (token + run id + repository); the twirp service is never used on that path:
 *
 *   GET    /repos/{o}/{r}/actions/runs/{run_id}/artifacts[?name=&per_page=&page=]  list / get by name
 *   GET    /repos/{o}/{r}/actions/artifacts/{id}/zip   302 to the signed blob URL (download)
 *   GET    /repos/{o}/{r}/actions/artifacts/{id}       one artifact
 *   DELETE /repos/{o}/{r}/actions/artifacts/{id}       204
 *
 * The client reaches them through @actions/github, whose base URL is read from GITHUB_API_URL once,
 * when that module is first imported.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ArtifactService, StoredArtifact } from './actions-artifact-service.js';

export interface GitHubApiConfig {
  /** path prefix of the API on this server, e.g. '/api' */
  prefix: string;
  repository: string;
  token: string;
  origin: () => string;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function notFound(res: ServerResponse): void {
  sendJson(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
}

function restView(a: StoredArtifact, api: string, repository: string): object {
  const url = `${api}/repos/${repository}/actions/artifacts/${a.id}`;
  return {
    id: a.id,
    node_id: Buffer.from(`Artifact${a.id}`).toString('base64'),
    name: a.name,
    size_in_bytes: a.size,
    url,
    archive_download_url: `${url}/zip`,
    expired: false,
    created_at: a.createdAt.toISOString(),
    updated_at: a.createdAt.toISOString(),
    expires_at: a.expiresAt?.toISOString() ?? null,
    digest: a.digest ?? null,
    workflow_run: { id: a.runId, repository_id: 1, head_repository_id: 1, head_branch: 'main', head_sha: '0'.repeat(40) },
  };
}

/** Handles a request under `config.prefix`. */
export async function serveGitHubApi(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  config: GitHubApiConfig,
  artifacts: ArtifactService,
): Promise<void> {
  req.resume();
  const credentials = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (credentials?.[1] !== config.token) {
    return sendJson(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
  }
  const path = url.pathname.slice(config.prefix.length);
  const repoPrefix = `/repos/${config.repository}/actions/`;
  if (!path.startsWith(repoPrefix)) return notFound(res);
  const rest = path.slice(repoPrefix.length);
  const api = `${config.origin()}${config.prefix}`;

  const runList = /^runs\/(\d+)\/artifacts$/.exec(rest);
  if (runList && req.method === 'GET') {
    const name = url.searchParams.get('name');
    const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30) || 30, 100);
    const page = Math.max(Number(url.searchParams.get('page') ?? 1) || 1, 1);
    const matching = artifacts
      .finalized()
      .filter((a) => a.runId === Number(runList[1]) && (name === null || a.name === name))
      .sort((a, b) => b.id - a.id);
    return sendJson(res, 200, {
      total_count: matching.length,
      artifacts: matching.slice((page - 1) * perPage, page * perPage).map((a) => restView(a, api, config.repository)),
    });
  }

  const one = /^artifacts\/(\d+)(?:\/([a-z]+))?$/.exec(rest);
  const artifact = one ? artifacts.finalized().find((a) => a.id === Number(one[1])) : undefined;
  if (!one || !artifact) return notFound(res);
  if (one[2] !== undefined) {
    if (req.method !== 'GET' || one[2] !== 'zip') return notFound(res);
    res.writeHead(302, { location: artifacts.downloadUrl(artifact), 'content-length': 0 });
    return void res.end();
  }
  if (req.method === 'GET') return sendJson(res, 200, restView(artifact, api, config.repository));
  if (req.method === 'DELETE') {
    await artifacts.remove(artifact);
    res.writeHead(204);
    return void res.end();
  }
  notFound(res);
}
