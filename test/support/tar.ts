/**
 * Hand-made ustar headers for test data (catalog layers, chart archives, release payloads,
 * hostile archives): written here, independently of the project's own tar codec, so that the
 * codec is tested against bytes it did not produce.
 */

export interface TarHeaderSpec {
  /** up to 100 bytes (no prefix field: test names stay short) */
  name: string;
  size: number;
  /** typeflag: '0' file, '5' directory, '1' hard link, '2' symlink, … */
  type?: string;
  /** default 0644 for files, 0755 for directories */
  mode?: number;
  /** seconds since the epoch; default 0 */
  mtime?: number;
  linkName?: string;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** One 512-byte ustar header, uid/gid 0, with its checksum. */
export function ustarHeader(spec: TarHeaderSpec): Buffer {
  if (Buffer.byteLength(spec.name) > 100) throw new Error(`test tar: name too long: ${spec.name}`);
  const type = spec.type ?? '0';
  const h = Buffer.alloc(512);
  h.write(spec.name, 0, 100, 'utf8');
  h.write(octal(spec.mode ?? (type === '5' ? 0o755 : 0o644), 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(spec.size, 12), 124);
  h.write(octal(spec.mtime ?? 0, 12), 136);
  h.fill(' ', 148, 156);
  h.write(type, 156);
  if (spec.linkName) h.write(spec.linkName, 157, 100, 'utf8');
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148);
  return h;
}

/** Zero bytes that pad `size` bytes of content to a whole block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}
