import type { CopyEvent } from '../copy/events.js';
import type { ConsoleSink, Level, Logger } from '../log.js';

const HEARTBEAT_MS = 5000;

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/**
 * Console output of a run. On a terminal a status line (a bar, counts, throughput) stays at the
 * bottom and log lines scroll above it; elsewhere (CI logs) every image gets its own line and a
 * heartbeat line appears whenever nothing was printed for 5 seconds.
 */
export class ConsoleProgress implements ConsoleSink {
  private total = 0;
  private done = 0;
  private failed = 0;
  private bytes = 0;
  private readonly active = new Set<string>();
  private started = Date.now();
  private lastOutput = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private statusShown = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly err: NodeJS.WriteStream,
    private readonly tty: boolean,
  ) {}

  write(level: Level, line: string): void {
    this.clearStatus();
    (level === 'error' || level === 'warn' ? this.err : this.out).write(line + '\n');
    this.lastOutput = Date.now();
    this.drawStatus();
  }

  /** Starts showing progress for a copy of `total` images. */
  begin(total: number): void {
    this.total = total;
    this.started = Date.now();
    this.timer = setInterval(() => this.tick(), this.tty ? 200 : 1000);
    this.timer.unref();
  }

  end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clearStatus();
  }

  /** Translates engine events into log lines through `log`, and counts for the status line. */
  listener(log: Logger, quiet: boolean): (e: CopyEvent) => void {
    return (e) => {
      switch (e.type) {
        case 'image-started':
          this.active.add(e.task.destination);
          break;
        case 'image-progress':
          this.bytes += e.bytes;
          break;
        case 'image-retrying':
          log.warn(`retrying ${e.task.source} in ${Math.round(e.delayMs / 100) / 10}s (attempt ${e.attempt + 1}): ${e.error}`);
          break;
        case 'image-succeeded':
          this.active.delete(e.task.destination);
          this.done++;
          if (!quiet) log.info(`Success copying ${e.task.source} ➡️ ${e.task.destination}${e.result.alreadyPresent ? ' (already present)' : ''}`);
          break;
        case 'image-failed':
          this.active.delete(e.task.destination);
          this.done++;
          this.failed++;
          log.error(`Failed to copy ${e.task.kind} ${e.task.source}: ${e.error}`);
          break;
      }
    };
  }

  private tick(): void {
    if (this.tty) {
      this.clearStatus();
      this.drawStatus();
    } else if (Date.now() - this.lastOutput >= HEARTBEAT_MS) {
      this.out.write(this.statusText() + '\n');
      this.lastOutput = Date.now();
    }
  }

  private statusText(): string {
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    const rate = formatBytes(this.bytes / seconds);
    const failed = this.failed ? `, ${this.failed} failed` : '';
    return `${this.done} / ${this.total} images${failed}, ${formatBytes(this.bytes)} copied (${rate}/s), ${this.active.size} in progress, ${Math.round(seconds)}s`;
  }

  private drawStatus(): void {
    if (!this.tty || !this.timer) return;
    const width = 24;
    const filled = this.total ? Math.round((this.done / this.total) * width) : 0;
    const bar = `[${'='.repeat(filled)}${' '.repeat(width - filled)}]`;
    const cols = this.out.columns || 120;
    this.out.write(`${bar} ${this.statusText()}`.slice(0, cols - 1));
    this.statusShown = true;
  }

  private clearStatus(): void {
    if (this.statusShown) {
      this.out.write('\r\x1b[2K');
      this.statusShown = false;
    }
  }
}
