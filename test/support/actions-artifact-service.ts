/**
 * Artifact service v4 (`github.actions.results.api.v1.ArtifactService`) as @actions/artifact 6
 * drives it:
 *
 *   CreateArtifact {run, job, name, version, mime_type, expires_at?} → {ok, signed_upload_url}
 *   (client streams the zip — or, with skipArchive, the raw file — as staged blocks + block list)
 *   FinalizeArtifact {run, job, name, size, hash?}                   → {ok, artifact_id}
 *   ListArtifacts {run, job, name_filter?, id_filter?}               → {artifacts: [...]}
 *   GetSignedArtifactURL {run, job, name}                            → {signed_url}
 *   DeleteArtifact {run, job, name}                                  → {ok, artifact_id}
 *
 * Names are unique per workflow run (all jobs share the run's namespace); a caller can only touch
 * its own run (the run id in the request must be the token's). Downloads get the content type and
 * a Content-Disposition filename pinned in the signed URL, which the client uses to decide between
 * unzip and saving the raw file under that name.
 */
import { readFile } from 'node:fs/promises';
import { BlobStore } from './actions-blob-store.js';
import type { ActionsFaults } from './actions-faults.js';
import type { RuntimeClaims } from './actions-token.js';
import { optionalNumber, optionalString, stringField, TwirpError, type TwirpBody, type TwirpService } from './actions-twirp.js';

export const ARTIFACT_SERVICE = 'github.actions.results.api.v1.ArtifactService';
const CONTAINER = 'actions-results';
const ZIP = 'application/zip';

/** An artifact as tests (and the GitHub REST fake) see it. */
export interface ArtifactInfo {
  id: number;
  name: string;
  /** name of the stored file: `<name>.zip` for archives, the file's own name with skipArchive */
  fileName: string;
  mimeType: string;
  runBackendId: string;
  jobBackendId: string;
  /** GITHUB_RUN_ID of the run that uploaded it */
  runId: number;
  size: number;
  /** `sha256:<hex>` as the client reported it at finalize */
  digest: string | undefined;
  createdAt: Date;
  expiresAt: Date | undefined;
  finalized: boolean;
}

/** An artifact with where its bytes are kept. */
export interface StoredArtifact extends ArtifactInfo {
  blob: string;
}
type Artifact = StoredArtifact;

export interface ArtifactInspector {
  /** finalized artifacts of every run, oldest first */
  list(): ArtifactInfo[];
  /** the uploaded bytes (the zip, or the raw file) of a finalized artifact */
  read(name: string, runId?: number): Promise<Buffer>;
  /** where those bytes are on disk */
  path(name: string, runId?: number): string;
}

/** How the artifact service maps a run backend id to the public run id. */
export type RunIdOf = (runBackendId: string) => number | undefined;

export class ArtifactService {
  private readonly all: Artifact[] = [];
  private nextId = 1001;

  constructor(
    private readonly blobs: BlobStore,
    private readonly faults: ActionsFaults,
    private readonly origin: () => string,
    private readonly runIdOf: RunIdOf,
    private readonly defaultRunId: () => number,
  ) {}

  readonly twirp: TwirpService = {
    CreateArtifact: (body, caller) => this.create(body, caller),
    FinalizeArtifact: (body, caller) => this.finalize(body, caller),
    ListArtifacts: (body, caller) => this.listForRun(body, caller),
    GetSignedArtifactURL: (body, caller) => this.signedUrl(body, caller),
    DeleteArtifact: (body, caller) => this.deleteByName(body, caller),
  };

  readonly inspector: ArtifactInspector = {
    list: () => this.finalized().map(publicView),
    read: (name, runId) => readFile(this.inspector.path(name, runId)),
    path: (name, runId = this.defaultRunId()) => {
      const artifact = this.finalized().find((a) => a.name === name && a.runId === runId);
      if (!artifact) throw new Error(`no artifact ${name} in run ${runId}`);
      return this.blobs.filePath(CONTAINER, artifact.blob);
    },
  };

  /** Finalized artifacts, for the REST fake. */
  finalized(): Artifact[] {
    return this.all.filter((a) => a.finalized);
  }

  /** A signed download URL (the REST fake redirects to it). */
  downloadUrl(artifact: Artifact): string {
    const encoded = encodeURIComponent(artifact.fileName);
    return this.blobs.signedUrl(this.origin(), CONTAINER, artifact.blob, 'r', 3600_000, {
      contentDisposition: `attachment; filename="${artifact.fileName.replace(/[^\x20-\x7e]|"/g, '_')}"; filename*=UTF-8''${encoded}`,
      contentType: artifact.mimeType,
    });
  }

  async remove(artifact: Artifact): Promise<void> {
    const index = this.all.findIndex((a) => a.id === artifact.id);
    if (index < 0) return;
    const [gone] = this.all.splice(index, 1);
    await this.blobs.remove(CONTAINER, gone!.blob);
  }

  /** The run in the request must be the caller's own. */
  private ownRun(body: TwirpBody, caller: RuntimeClaims): string {
    const run = stringField(body, 'workflow_run_backend_id');
    const job = stringField(body, 'workflow_job_run_backend_id');
    if (!run || !job) throw new TwirpError('invalid_argument', 'workflow run and job backend ids are required');
    if (run !== caller.runBackendId) throw new TwirpError('permission_denied', 'the token does not grant access to this workflow run');
    return run;
  }

  private named(run: string, body: TwirpBody, finalized: boolean): Artifact | undefined {
    const name = stringField(body, 'name');
    return this.all.find((a) => a.runBackendId === run && a.name === name && a.finalized === finalized);
  }

  private create(body: TwirpBody, caller: RuntimeClaims): object {
    const run = this.ownRun(body, caller);
    const name = stringField(body, 'name');
    if (!name) throw new TwirpError('invalid_argument', 'name is required');
    if (this.faults.artifactQuotaReached) throw new TwirpError('permission_denied', 'insufficient usage to create artifact');
    if (this.all.some((a) => a.runBackendId === run && a.name === name)) {
      throw new TwirpError('already_exists', 'an artifact with this name already exists on the workflow run');
    }
    // Clients before 6.x send no mime type and always upload a zip.
    const mimeType = optionalString(body, 'mime_type') ?? ZIP;
    const fileName = mimeType === ZIP && !name.toLowerCase().endsWith('.zip') ? `${name}.zip` : name;
    const expires = optionalString(body, 'expires_at');
    const id = this.nextId++;
    const artifact: Artifact = {
      id,
      name,
      fileName,
      mimeType,
      runBackendId: run,
      jobBackendId: stringField(body, 'workflow_job_run_backend_id'),
      runId: this.runIdOf(run) ?? 0,
      size: 0,
      digest: undefined,
      createdAt: new Date(),
      expiresAt: expires ? new Date(expires) : undefined,
      finalized: false,
      blob: `${run}/${id}/${fileName}`,
    };
    this.all.push(artifact);
    this.blobs.allowWrites(CONTAINER, artifact.blob);
    return { ok: true, signed_upload_url: this.blobs.signedUrl(this.origin(), CONTAINER, artifact.blob, 'cw') };
  }

  private finalize(body: TwirpBody, caller: RuntimeClaims): object {
    const run = this.ownRun(body, caller);
    const artifact = this.named(run, body, false);
    if (!artifact) throw new TwirpError('not_found', 'artifact not found');
    const uploaded = this.blobs.info(CONTAINER, artifact.blob);
    if (!uploaded) throw new TwirpError('failed_precondition', 'artifact has no uploaded content');
    this.blobs.sealWrites(CONTAINER, artifact.blob);
    artifact.finalized = true;
    artifact.size = uploaded.size;
    artifact.digest = optionalString(body, 'hash');
    return { ok: true, artifact_id: String(artifact.id) };
  }

  private listForRun(body: TwirpBody, caller: RuntimeClaims): object {
    const run = this.ownRun(body, caller);
    const nameFilter = optionalString(body, 'name_filter');
    const idFilter = optionalNumber(body, 'id_filter');
    const artifacts = this.finalized()
      .filter((a) => a.runBackendId === run)
      .filter((a) => nameFilter === undefined || a.name === nameFilter)
      .filter((a) => idFilter === undefined || a.id === idFilter)
      .map((a) => ({
        workflow_run_backend_id: a.runBackendId,
        workflow_job_run_backend_id: a.jobBackendId,
        database_id: String(a.id),
        name: a.name,
        size: String(a.size),
        created_at: a.createdAt.toISOString(),
        ...(a.digest ? { digest: a.digest } : {}),
      }));
    return { artifacts };
  }

  private signedUrl(body: TwirpBody, caller: RuntimeClaims): object {
    const artifact = this.named(this.ownRun(body, caller), body, true);
    if (!artifact) throw new TwirpError('not_found', 'artifact not found');
    return { signed_url: this.downloadUrl(artifact) };
  }

  private async deleteByName(body: TwirpBody, caller: RuntimeClaims): Promise<object> {
    const artifact = this.named(this.ownRun(body, caller), body, true);
    if (!artifact) throw new TwirpError('not_found', 'artifact not found');
    await this.remove(artifact);
    return { ok: true, artifact_id: String(artifact.id) };
  }
}

function publicView(a: Artifact): ArtifactInfo {
  const { blob: _blob, ...info } = a;
  return { ...info };
}
