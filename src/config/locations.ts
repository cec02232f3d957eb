import type { LineCounter, Node as YamlNode } from 'yaml';
import { ConfigError } from '../errors.js';

/**
 * Where each field of a parsed configuration sits in its file, so that a problem found on the
 * plain data after the structural walk (a duplicate, a range mix) still points at a line.
 * One instance per parse.
 */
export class Locations {
  private readonly lineByPath = new Map<string, number>();

  constructor(
    readonly file: string,
    private readonly counter: LineCounter,
  ) {}

  lineOfOffset(offset: number): number {
    return this.counter.linePos(offset).line;
  }

  /** The line a YAML node starts on; anything that is not a parsed node has none. */
  lineOfNode(node: unknown): number | undefined {
    const start = (node as YamlNode | null | undefined)?.range?.[0];
    return start === undefined ? undefined : this.lineOfOffset(start);
  }

  remember(path: string, line: number | undefined): void {
    if (line !== undefined) this.lineByPath.set(path, line);
  }

  /** The line of `path`, or of its nearest recorded parent (a missing field has no line of its own). */
  lineOf(path: string): number | undefined {
    for (let p = path; p; p = parentPath(p)) {
      const line = this.lineByPath.get(p);
      if (line !== undefined) return line;
    }
    return undefined;
  }

  error(path: string, problem: string, line: number | undefined = this.lineOf(path)): ConfigError {
    return configError(this.file, line, path, problem);
  }
}

/** `a.b[2].c` → `a.b[2]` → `a.b` → `a` → `` */
export function parentPath(path: string): string {
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut > 0 ? path.slice(0, cut) : '';
}

export function fieldPath(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

/**
 * The one-line message the CLI prints: `<file>:<line> <path>: <problem>`; without a line,
 * `<file> <path>: <problem>`; a problem of the whole file has no path: `<file>:<line> <problem>`
 * or `<file>: <problem>`.
 */
export function configError(file: string, line: number | undefined, path: string, problem: string): ConfigError {
  const where = line === undefined ? file : `${file}:${line}`;
  if (path) return new ConfigError(`${where} ${path}: ${problem}`);
  return new ConfigError(line === undefined ? `${file}: ${problem}` : `${where} ${problem}`);
}
