/**
 * Chart archives (`.tgz`) read and written with our own tar codec. A chart archive holds one
 * top-level directory (the chart's name) whose content is the chart; Helm strips that first path
 * component whatever it is called, and so do we. Anything that would land outside the chart, or
 * that is not a regular file, is refused.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { readTarIndex, TarWriter } from '../archive/tar.js';
import { errorMessage } from '../errors.js';
import { HelmError } from './errors.js';

/** Helm's own limits (MaxDecompressedChartSize, MaxDecompressedFileSize): a bigger chart is a zip bomb or a mistake. */
export const MAX_CHART_BYTES = 100 * 1024 * 1024;
export const MAX_CHART_FILE_BYTES = 5 * 1024 * 1024;

/** Chart files by path relative to the chart root (`Chart.yaml`, `templates/x.yaml`, `charts/sub/...`). */
export type ChartFiles = Map<string, Buffer>;

async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'oc-mirror-chart-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function limit(max: number, label: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) done(new HelmError(`${label}: the chart is larger than ${max} bytes once decompressed`));
      else done(null, chunk);
    },
  });
}

/** The path of an archive entry inside the chart, or a refusal naming the entry. */
function chartPath(entryName: string, label: string): string | undefined {
  const parts = entryName.replaceAll('\\', '/').split('/');
  const rest = parts.slice(1).join('/');
  if (parts.length < 2 || rest === '') {
    if (parts[0] === 'Chart.yaml') throw new HelmError(`${label}: Chart.yaml is not inside the chart's directory`);
    return undefined; // the top-level directory itself
  }
  if (posix.isAbsolute(rest) || /^[a-zA-Z]:/.test(rest)) throw new HelmError(`${label}: entry "${entryName}" has an absolute path`);
  const clean = posix.normalize(rest);
  if (clean === '.' || clean === '..' || clean.startsWith('../')) throw new HelmError(`${label}: entry "${entryName}" points outside the chart`);
  return clean.replace(/\/$/, '');
}

/** Reads a gzipped chart archive; `label` names it in messages (e.g. `chart nginx-1.2.3.tgz`). */
export async function readChartArchive(bytes: Buffer, label: string): Promise<ChartFiles> {
  return withTempDir(async (dir) => {
    const tarPath = join(dir, 'chart.tar');
    try {
      await pipeline(Readable.from([bytes]), createGunzip(), limit(MAX_CHART_BYTES, label), createWriteStream(tarPath));
    } catch (err) {
      if (err instanceof HelmError) throw err;
      throw new HelmError(`${label}: not a gzipped chart archive: ${errorMessage(err)}`);
    }
    const file = await open(tarPath, 'r');
    try {
      const files: ChartFiles = new Map();
      let entries;
      try {
        entries = await readTarIndex(file, label);
      } catch (err) {
        throw new HelmError(`${label}: ${errorMessage(err)}`);
      }
      for (const entry of entries) {
        const path = chartPath(entry.name, label);
        if (path === undefined || entry.type === 'directory') continue;
        if (entry.type !== 'file') throw new HelmError(`${label}: entry "${entry.name}" is a ${entry.type}: a chart holds regular files only`);
        if (entry.size > MAX_CHART_FILE_BYTES) throw new HelmError(`${label}: file "${path}" is larger than ${MAX_CHART_FILE_BYTES} bytes`);
        const data = Buffer.alloc(entry.size);
        await file.read(data, 0, entry.size, entry.offset);
        files.set(path, data);
      }
      if (files.size === 0) throw new HelmError(`${label}: the archive holds no chart`);
      return files;
    } finally {
      await file.close();
    }
  });
}

/** A gzipped chart archive of `files` under the top-level directory `name`, as `helm package` lays it out. */
export async function writeChartArchive(name: string, files: ChartFiles): Promise<Buffer> {
  return withTempDir(async (dir) => {
    const tarPath = join(dir, 'chart.tar');
    const file = await open(tarPath, 'w');
    try {
      const writer = new TarWriter(file, new Date(0));
      for (const [path, data] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        await writer.addFile(`${name}/${path}`, data.length, Readable.from([data]));
      }
      await writer.finish();
    } finally {
      await file.close();
    }
    const chunks: Buffer[] = [];
    await pipeline(createReadStream(tarPath), createGzip(), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) chunks.push(chunk);
    });
    return Buffer.concat(chunks);
  });
}
