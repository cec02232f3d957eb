import type { FileHandle } from 'node:fs/promises';

/**
 * Writes every byte of `buffers` with as few system calls as the kernel allows (a write may take
 * fewer bytes than given); at `position` when given, else at the file's current offset.
 */
export async function writeFully(file: FileHandle, buffers: Buffer[], position?: number): Promise<number> {
  let rest = buffers.filter((b) => b.length > 0);
  let total = rest.reduce((n, b) => n + b.length, 0);
  const length = total;
  while (total > 0) {
    const { bytesWritten } = position === undefined ? await file.writev(rest) : await file.writev(rest, position);
    if (bytesWritten <= 0) throw new Error(`the file took none of ${total} bytes`);
    if (position !== undefined) position += bytesWritten;
    total -= bytesWritten;
    rest = dropBytes(rest, bytesWritten);
  }
  return length;
}

function dropBytes(buffers: Buffer[], n: number): Buffer[] {
  const rest: Buffer[] = [];
  for (const b of buffers) {
    if (n >= b.length) n -= b.length;
    else {
      rest.push(n > 0 ? b.subarray(n) : b);
      n = 0;
    }
  }
  return rest;
}
