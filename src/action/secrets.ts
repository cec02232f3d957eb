import * as core from '@actions/core';

/** How a value is masked in the runner's logs; `core.setSecret` on a runner, a recorder in tests. */
export type SetSecret = (value: string) => void;

/**
 * The secrets of one action run. Every value is masked the moment it is known, and remembered so
 * that nothing written to outputs can carry one: the runner masks logs, not step outputs, and an
 * output travels on to other jobs and to anyone who can read the workflow run.
 */
export class SecretRegistry {
  // Private fields: logging an object that holds the registry must not print the secrets.
  readonly #values = new Set<string>();
  readonly #setSecret: SetSecret;

  constructor(setSecret: SetSecret = core.setSecret) {
    this.#setSecret = setSecret;
  }

  /**
   * Masks a value (empty and undefined are ignored: there is nothing to hide). The runner matches
   * masks against one log line at a time, so a multi-line value is also masked line by line;
   * callers therefore register secret fields, never whole documents whose lines would be `{`.
   */
  add(value: string | undefined): void {
    if (!value) return;
    const lines = value.split(/\r?\n/).filter((line) => line.trim() !== '' && line !== value);
    for (const part of [value, ...lines]) {
      if (this.#values.has(part)) continue;
      this.#values.add(part);
      this.#setSecret(part);
    }
  }

  /** Whether a text contains any registered secret. */
  foundIn(text: string): boolean {
    for (const value of this.#values) if (text.includes(value)) return true;
    return false;
  }

  get size(): number {
    return this.#values.size;
  }
}
