import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { OcMirrorError } from '../errors.js';

export interface Credentials {
  username: string;
  password: string;
}

/** Finds the credentials for a repository; undefined means anonymous. */
export type CredentialLookup = (registry: string, repository: string) => Promise<Credentials | undefined>;

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface AuthFile {
  path: string;
  auths: Map<string, AuthEntry>;
  credHelpers: Record<string, string>;
  credsStore?: string;
}

/**
 * The files containers/image and docker read, in their order. An explicit `--authfile` (or
 * REGISTRY_AUTH_FILE) replaces the whole list, as in skopeo.
 */
export function authFileCandidates(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  if (explicit) return [explicit];
  if (env.REGISTRY_AUTH_FILE) return [env.REGISTRY_AUTH_FILE];
  const home = env.HOME || homedir();
  const list: string[] = [];
  if (env.XDG_RUNTIME_DIR) list.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  list.push(join(home, '.config', 'containers', 'auth.json'));
  list.push(join(env.DOCKER_CONFIG || join(home, '.docker'), 'config.json'));
  return list;
}

function readAuthFile(path: string, required: boolean): AuthFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (required) throw new OcMirrorError(`authfile ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
  let doc: { auths?: Record<string, AuthEntry>; credHelpers?: Record<string, string>; credsStore?: string };
  try {
    doc = JSON.parse(text);
  } catch {
    // Never echo the content: it holds secrets.
    throw new OcMirrorError(`authfile ${path}: is not valid JSON`);
  }
  const auths = new Map<string, AuthEntry>();
  for (const [key, entry] of Object.entries(doc.auths ?? {})) auths.set(normaliseKey(key), entry);
  return { path, auths, credHelpers: doc.credHelpers ?? {}, ...(doc.credsStore && { credsStore: doc.credsStore }) };
}

/** `https://index.docker.io/v1/` and `https://host/` style keys become `docker.io` and `host`. */
function normaliseKey(key: string): string {
  let k = key.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (k.endsWith('/v1') || k.endsWith('/v2')) k = k.slice(0, -3);
  if (k === 'index.docker.io' || k === 'registry-1.docker.io') k = 'docker.io';
  return k;
}

function decodeEntry(entry: AuthEntry, path: string, key: string): Credentials | undefined {
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OcMirrorError(`authfile ${path}: the "auth" entry for ${key} is not base64 of user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
  return undefined;
}

/** Asks a docker-credential-<helper> program, as docker does. */
function fromHelper(helper: string, registry: string): Promise<Credentials | undefined> {
  return new Promise((resolve) => {
    const child = execFile(`docker-credential-${helper}`, ['get'], { timeout: 30_000 }, (err, stdout) => {
      if (err) return resolve(undefined);
      try {
        const o = JSON.parse(stdout) as { Username?: string; Secret?: string };
        resolve(o.Secret ? { username: o.Username ?? '', password: o.Secret } : undefined);
      } catch {
        resolve(undefined);
      }
    });
    child.stdin?.end(registry);
  });
}

/**
 * Builds a lookup over the auth files. Entries may be per registry or per repository path
 * (`host/ns/repo`); the longest matching path wins, and the first file with a match is used.
 */
export function credentialLookup(authfile: string | undefined, env: NodeJS.ProcessEnv = process.env): CredentialLookup {
  const explicit = authfile ?? env.REGISTRY_AUTH_FILE;
  const files = authFileCandidates(authfile, env)
    .map((p) => readAuthFile(p, Boolean(explicit)))
    .filter((f): f is AuthFile => f !== undefined);
  return async (registry, repository) => {
    const segments = `${registry}/${repository}`.split('/');
    for (const file of files) {
      for (let n = segments.length; n >= 1; n--) {
        const key = segments.slice(0, n).join('/');
        const entry = file.auths.get(key);
        if (entry) {
          const creds = decodeEntry(entry, file.path, key);
          if (creds) return creds;
        }
      }
      const helper = file.credHelpers[registry] ?? file.credsStore;
      if (helper) {
        const creds = await fromHelper(helper, registry);
        if (creds) return creds;
      }
    }
    return undefined;
  };
}
