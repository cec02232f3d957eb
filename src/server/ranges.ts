/**
 * Byte ranges: `Range` on blob GETs (clients resume interrupted pulls with them) and
 * `Content-Range` on upload chunks.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';

/** Inclusive byte positions, as HTTP writes them. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The single range a `Range` header asks for within `size` bytes. `undefined` means "serve the
 * whole body" (no header, a unit other than bytes, several ranges, or syntax we do not read: the
 * RFC lets a server ignore Range); `'unsatisfiable'` means 416.
 */
export function requestedRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return undefined;
  const [, first, last] = m as unknown as [string, string, string];
  if (first === '' && last === '') return undefined;
  if (first === '') {
    // suffix range: the last N bytes
    const n = Number(last);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return undefined;
  return { start, end };
}

/** `<start>-<end>` of an upload chunk (also accepted with a `bytes ` or `bytes=` prefix). */
export function parseContentRange(header: string): ByteRange | undefined {
  const m = /^\s*(?:bytes[ =])?\s*(\d+)\s*-\s*(\d+)\s*(?:\/\s*(?:\d+|\*))?\s*$/i.exec(header);
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]) };
}

/**
 * Bytes `start..end` (inclusive) of a stream that begins at offset 0. For layouts that cannot seek
 * (a blob inside a tar read as a stream) the skipped bytes are read and dropped; the source is
 * destroyed once the range is complete so its file handle is released at once.
 */
export function sliceStream(source: Readable, range: ByteRange): Readable {
  let position = 0;
  const slicer = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      const chunkStart = position;
      position += chunk.length;
      const from = Math.max(range.start - chunkStart, 0);
      const to = Math.min(range.end + 1 - chunkStart, chunk.length);
      if (to > from) this.push(chunk.subarray(from, to));
      if (position > range.end) {
        this.push(null);
        source.unpipe(slicer);
        source.destroy();
      }
      cb();
    },
  });
  source.on('error', (err) => slicer.destroy(err));
  slicer.on('close', () => source.destroy());
  return source.pipe(slicer);
}
