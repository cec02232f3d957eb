/**
 * Blob uploads in progress. Each one is a temp file in a directory the server owns, appended to
 * by PATCH requests and handed to the backend as a stream when PUT completes it: nothing of an
 * upload is held in memory, whatever its size.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError } from './api-errors.js';

export interface UploadSession {
  readonly id: string;
  readonly repository: string;
  readonly path: string;
  /** bytes received so far */
  size: number;
  lastActivity: number;
  /** a request is writing or committing it: a second one would interleave bytes */
  busy: boolean;
}

/** Uploads nobody touched for this long are dropped (distribution purges after a week). */
const DEFAULT_MAX_IDLE_MS = 24 * 60 * 60 * 1000;

export class UploadSessions {
  private readonly sessions = new Map<string, UploadSession>();

  private constructor(
    readonly dir: string,
    private readonly maxIdleMs: number,
  ) {}

  /** Creates the server's own upload directory under `parent` (default: the system temp dir). */
  static async create(parent = tmpdir(), maxIdleMs = DEFAULT_MAX_IDLE_MS): Promise<UploadSessions> {
    return new UploadSessions(await mkdtemp(join(parent, 'oc-mirror-uploads-')), maxIdleMs);
  }

  async start(repository: string): Promise<UploadSession> {
    await this.purgeIdle();
    const id = randomUUID();
    const session: UploadSession = { id, repository, path: join(this.dir, id), size: 0, lastActivity: Date.now(), busy: false };
    await writeFile(session.path, '');
    this.sessions.set(id, session);
    return session;
  }

  /** The session, which must belong to `repository`, else BLOB_UPLOAD_UNKNOWN. */
  get(id: string, repository: string): UploadSession {
    const session = this.sessions.get(id);
    if (!session || session.repository !== repository) throw new ApiError('BLOB_UPLOAD_UNKNOWN', { uuid: id });
    return session;
  }

  /** Marks the session as in use for the duration of `work`; refuses concurrent use. */
  async exclusive<T>(session: UploadSession, work: () => Promise<T>): Promise<T> {
    if (session.busy) throw new ApiError('BLOB_UPLOAD_INVALID', 'another request is writing this upload');
    session.busy = true;
    try {
      return await work();
    } finally {
      session.busy = false;
      session.lastActivity = Date.now();
    }
  }

  /**
   * Appends a request body. The size is re-read from the file afterwards, whatever happened: after
   * an interrupted chunk the client asks where we are and resumes from there.
   */
  async append(session: UploadSession, body: Readable): Promise<void> {
    try {
      await pipeline(body, createWriteStream(session.path, { flags: 'a' }));
    } finally {
      session.size = (await stat(session.path)).size;
    }
  }

  content(session: UploadSession): Readable {
    return createReadStream(session.path, { highWaterMark: 1024 * 1024 });
  }

  async discard(session: UploadSession): Promise<void> {
    this.sessions.delete(session.id);
    await rm(session.path, { force: true });
  }

  get count(): number {
    return this.sessions.size;
  }

  /** Removes every upload and the directory. */
  async close(): Promise<void> {
    this.sessions.clear();
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }

  private async purgeIdle(): Promise<void> {
    const limit = Date.now() - this.maxIdleMs;
    for (const session of [...this.sessions.values()]) {
      if (!session.busy && session.lastActivity < limit) await this.discard(session);
    }
  }
}
