import { appendFileSync } from 'node:fs';
import type { LogLevel } from './options.js';

export type Level = 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** What every layer logs through; the front ends decide where lines go. */
export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  trace(message: string): void;
}

const RANK: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

/** `YYYY/MM/DD HH:MM:SS  [LEVEL]  : message`, oc-mirror's console format (ref §3.2). */
export function formatLine(level: Level, message: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}/${p(now.getMonth() + 1)}/${p(now.getDate())} ${p(now.getHours())}:${p(now.getMinutes())}:${p(now.getSeconds())}`;
  return `${stamp}  [${level.toUpperCase()}]  : ${message}`;
}

export interface ConsoleSink {
  write(level: Level, line: string): void;
}

/**
 * Writes each line to the console sink (filtered by the chosen level) and, whatever the level,
 * to the run's log file from the moment it is known.
 */
export class RunLogger implements Logger {
  private file: string | undefined;

  constructor(
    private readonly level: LogLevel,
    private readonly sink: ConsoleSink,
  ) {}

  /** Lines logged from now on are also appended to this file. */
  attachFile(path: string): void {
    this.file = path;
  }

  private log(level: Level, message: string): void {
    const line = formatLine(level, message);
    const threshold = this.level === 'error' ? RANK.warn : RANK[this.level];
    if (RANK[level] <= threshold) this.sink.write(level, line);
    if (this.file && RANK[level] <= Math.max(RANK.info, threshold)) appendFileSync(this.file, line + '\n');
  }

  error(m: string): void {
    this.log('error', m);
  }
  warn(m: string): void {
    this.log('warn', m);
  }
  info(m: string): void {
    this.log('info', m);
  }
  debug(m: string): void {
    this.log('debug', m);
  }
  trace(m: string): void {
    this.log('trace', m);
  }
}
