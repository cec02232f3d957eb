import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { SecretRegistry } from './secrets.js';

/** The credential inputs of an action, as given (trimmed). */
export interface CredentialInputs {
  /** the content of an auth.json */
  authJson?: string;
  registry?: string;
  username?: string;
  password?: string;
}

/** One `auths` entry, in the containers auth.json format the engine reads (src/registry/credentials.ts). */
interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  [other: string]: unknown;
}

export interface AuthDocument {
  auths: Record<string, AuthEntry>;
  [other: string]: unknown;
}

/** A private authfile that exists until disposed. */
export interface TemporaryAuthfile {
  readonly path: string;
  /** Removes the file and its directory; safe to call more than once. */
  dispose(): void;
}

export interface AuthfileOptions {
  secrets: SecretRegistry;
  /** where the private directory is made; default `$RUNNER_TEMP`, else the OS temporary directory */
  tempDir?: string;
  env?: NodeJS.ProcessEnv;
}

export function hasCredentials(inputs: CredentialInputs): boolean {
  return Boolean(inputs.authJson || inputs.registry || inputs.username || inputs.password);
}

/**
 * Validates the credential inputs, masks every secret in them (and what can be derived from them:
 * base64 `auth` strings, decoded `user:password`), and merges them into one auth.json document.
 * `registry`/`username`/`password` win over an `auth-json` entry for the same registry. Error
 * messages name the input and at most a registry key, never a value.
 */
export function authDocument(inputs: CredentialInputs, secrets: SecretRegistry): AuthDocument | undefined {
  // Mask before anything can fail, so that no later message or log line can show a value.
  secrets.add(inputs.password);
  let doc = inputs.authJson ? parseAuthJson(inputs.authJson, secrets) : undefined;
  const login = loginEntry(inputs, secrets);
  if (login) doc = { ...doc, auths: { ...doc?.auths, [login.registry]: login.entry } };
  return doc;
}

function parseAuthJson(text: string, secrets: SecretRegistry): AuthDocument {
  // Compact JSON on one line might be echoed whole by a careless tool; a multi-line document is
  // masked field by field (its lines include `{`, which must not be masked).
  if (!/[\r\n]/.test(text)) secrets.add(text);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new UsageError('input "auth-json": is not valid JSON (give the content of an auth.json, not its path)');
  }
  if (!isObject(doc) || !isObject(doc.auths)) {
    throw new UsageError('input "auth-json": needs an "auths" object, as in {"auths":{"quay.io":{"auth":"<base64 of user:password>"}}}');
  }
  for (const [key, entry] of Object.entries(doc.auths)) {
    if (!isObject(entry)) throw new UsageError(`input "auth-json": the entry for "${key}" is not an object`);
    for (const field of ['auth', 'password', 'identitytoken', 'registrytoken'] as const) {
      const value = entry[field];
      if (value === undefined) continue;
      if (typeof value !== 'string') throw new UsageError(`input "auth-json": "${field}" of "${key}" is not a string`);
      secrets.add(value);
    }
    if (typeof entry.auth === 'string' && entry.auth !== '') {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new UsageError(`input "auth-json": "auth" of "${key}" is not base64 of user:password`);
      secrets.add(decoded);
      secrets.add(decoded.slice(colon + 1));
    }
  }
  return doc as AuthDocument;
}

function loginEntry(inputs: CredentialInputs, secrets: SecretRegistry): { registry: string; entry: AuthEntry } | undefined {
  const { registry, username, password } = inputs;
  if (!registry && !username && !password) return undefined;
  if (username && !password) throw new UsageError('input "password": required with "username"');
  if (password && !username) throw new UsageError('input "username": required with "password"');
  if (!username || !password) throw new UsageError('input "username": required with "registry" (and "password")');
  if (!registry) throw new UsageError('input "registry": required with "username" and "password" (the registry they log in to, e.g. quay.io)');
  if (/\s/.test(registry)) throw new UsageError('input "registry": must be a registry host, e.g. quay.io or registry.example.com:5000');
  const pair = `${username}:${password}`;
  const auth = Buffer.from(pair, 'utf8').toString('base64');
  secrets.add(pair);
  secrets.add(auth);
  return { registry, entry: { auth } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Writes the credentials to a private authfile: a fresh directory of its own (mode 0700, unique
 * name) holding `auth.json` (mode 0600, created exclusively). Undefined when no credential input
 * is given: the engine then looks in the usual places (REGISTRY_AUTH_FILE, docker's config).
 */
export function writeAuthfile(inputs: CredentialInputs, options: AuthfileOptions): TemporaryAuthfile | undefined {
  const doc = authDocument(inputs, options.secrets);
  if (!doc) return undefined;
  const env = options.env ?? process.env;
  const dir = mkdtempSync(join(options.tempDir ?? (env.RUNNER_TEMP || tmpdir()), 'oc-mirror-auth-'));
  const dispose = (): void => rmSync(dir, { recursive: true, force: true });
  const path = join(dir, 'auth.json');
  try {
    writeFileSync(path, JSON.stringify(doc), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    dispose();
    throw err;
  }
  return { path, dispose };
}

/** What removeOnExit needs of the process; a stand-in in tests. */
export type ProcessEvents = Pick<NodeJS.Process, 'on' | 'off' | 'listenerCount' | 'kill' | 'pid'>;

/** Signals a runner or a user sends to stop a step (the runner: SIGINT, then SIGTERM). */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Removes the authfile if the process exits or is stopped by a signal before `finally` blocks run.
 * A signal handler suppresses Node's default exit, so once the file is gone the signal is raised
 * again unless someone else also listens for it (then stopping is theirs to do).
 * Returns a function that uninstalls the handlers.
 */
export function removeOnExit(file: TemporaryAuthfile, proc: ProcessEvents = process): () => void {
  const onExit = (): void => file.dispose();
  const onSignal = (signal: NodeJS.Signals): void => {
    file.dispose();
    uninstall();
    if (proc.listenerCount(signal) === 0) proc.kill(proc.pid, signal);
  };
  const uninstall = (): void => {
    proc.off('exit', onExit);
    for (const signal of STOP_SIGNALS) proc.off(signal, onSignal);
  };
  proc.on('exit', onExit);
  for (const signal of STOP_SIGNALS) proc.on(signal, onSignal);
  return uninstall;
}

/**
 * Runs `fn` with the path of a private authfile made from the credential inputs (undefined when
 * there are none) and removes the file afterwards: on return, on throw, on exit and on signals.
 */
export async function withCredentials<T>(
  inputs: CredentialInputs,
  options: AuthfileOptions & { proc?: ProcessEvents },
  fn: (authfile: string | undefined) => Promise<T>,
): Promise<T> {
  const file = writeAuthfile(inputs, options);
  if (!file) return fn(undefined);
  const uninstall = removeOnExit(file, options.proc);
  try {
    return await fn(file.path);
  } finally {
    uninstall();
    file.dispose();
  }
}
