/**
 * Throw-away CNCF distribution (docker-registry 2.8) instances on 127.0.0.1, one per call, each
 * with its own config, storage, port and (optionally) htpasswd/token auth and TLS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import bcrypt from 'bcryptjs';
import { request } from 'undici';
import { stringify } from 'yaml';
import { makeTrackedDir, removeDir, stopChild, trackChild, type Hookable } from './cleanup.js';
import { testPki } from './certs.js';
import { dispatcherFor } from './http.js';
import { freePort, LOOPBACK } from './ports.js';
import { requireTools } from './tools.js';
import { startTokenServer, type Credentials, type TokenServer, type TokenServerOptions } from './token-server.js';

export type { Credentials } from './token-server.js';

export interface RegistryOptions {
  auth?: 'none' | 'htpasswd' | 'token';
  tls?: boolean;
  /** storage.delete.enabled (default true): DELETE of manifests and blobs is allowed */
  deleteEnabled?: boolean;
  /** serve this existing storage directory (it is left in place on stop) instead of a fresh one */
  rootDir?: string;
  /** accounts for htpasswd/token auth; default one generated user. The first one fills
   * username/password/authFile of the TestRegistry. */
  users?: Credentials[];
  /** token auth only: anonymous pull, token lifetime, custom grant policy */
  token?: Omit<TokenServerOptions, 'users'>;
  /** storage.maintenance.readonly: every write answers 405 (to test failing pushes) */
  readOnly?: boolean;
}

export interface TestRegistry {
  /** '127.0.0.1:<port>', the registry part of image references */
  host: string;
  /** 'http(s)://127.0.0.1:<port>' */
  url: string;
  rootDir: string;
  tls: boolean;
  auth: 'none' | 'htpasswd' | 'token';
  /** PEM of the CA that signed the server certificate (tls only) */
  caCertPath?: string;
  /** a directory holding only `ca.crt` (containers certs.d convention; tls only) */
  certDir?: string;
  username?: string;
  password?: string;
  users: Credentials[];
  /** a containers/docker auth.json with `auth` (base64 user:password) for `host` */
  authFile?: string;
  /** the token server of an auth: 'token' registry (recorded requests, expiresIn) */
  tokenServer?: TokenServer;
  configPath: string;
  /** the registry's stdout+stderr so far (access log and warnings), for failure messages */
  logs(): string;
  /** kills the registry, stops its token server, removes its temp files. Idempotent. */
  stop(): Promise<void>;
}

const MAX_LOG = 2 * 1024 * 1024;

/**
 * Runs the registry so that it dies with us even when this process is SIGKILLed (a CI timeout, a
 * crashed test file) and no after-hook or exit handler runs: a background subshell waits for EOF
 * on a pipe (fd 3), which the kernel closes when our process goes away, then kills `$$`. `exec`
 * makes the registry take the shell's pid, so `child.pid` is the registry itself and our signals
 * reach it directly. Not stdin: the Go runtime makes the registry's stdin non-blocking, and the
 * shared file description then makes `read` fail at once.
 */
const WATCHDOG = '(read _ignored; kill -TERM $$) <&3 >/dev/null 2>&1 & exec "$1" serve "$2" 3<&-';
const READY_TIMEOUT_MS = 15_000;

/** Closes our end of the watchdog pipe so its subshell exits (the registry is already gone). */
function releaseWatchdog(child: ChildProcess | undefined): void {
  const pipe = child?.stdio[3];
  if (pipe && 'destroy' in pipe) pipe.destroy();
}

/** Environment without REGISTRY_* variables: distribution would let them override the config. */
function registryEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('REGISTRY_')) env[k] = v;
  return env;
}

/** A containers auth.json for one host. */
export function writeAuthFile(path: string, host: string, user: Credentials): void {
  const auth = Buffer.from(`${user.username}:${user.password}`).toString('base64');
  writeFileSync(path, JSON.stringify({ auths: { [host]: { auth } } }, null, 2) + '\n', { mode: 0o600 });
}

/**
 * Starts a registry and waits until `/v2/` answers. Pass `t` (a TestContext, or `{ after }` in a
 * describe body) to have it stopped automatically afterwards; otherwise call `stop()` yourself
 * in an after-hook.
 */
export async function startRegistry(options: RegistryOptions = {}, t?: Hookable): Promise<TestRegistry> {
  const tools = requireTools();
  const authMode = options.auth ?? 'none';
  const tls = options.tls ?? false;
  const dir = makeTrackedDir('registry');
  const rootDir = options.rootDir ?? join(dir, 'storage');
  const users =
    authMode === 'none'
      ? []
      : (options.users ?? [{ username: 'ocm-user', password: `pw-${randomBytes(6).toString('hex')}` }]);

  let tokenServer: TokenServer | undefined;
  let child: ChildProcess | undefined;
  let output = '';

  const cleanup = async () => {
    if (child) {
      await stopChild(child);
      releaseWatchdog(child);
    }
    await tokenServer?.stop();
    await removeDir(dir);
  };

  try {
    const pki = tls || authMode === 'token' ? await testPki() : undefined;
    const config: Record<string, unknown> = {
      version: 0.1,
      log: { level: 'warn', formatter: 'text' },
      storage: {
        filesystem: { rootdirectory: rootDir },
        delete: { enabled: options.deleteEnabled ?? true },
        maintenance: {
          uploadpurging: { enabled: false },
          ...(options.readOnly ? { readonly: { enabled: true } } : {}),
        },
      },
      http: {
        addr: '',
        // an explicit secret only silences the "No HTTP secret provided" warning in the logs
        secret: randomBytes(16).toString('hex'),
        ...(tls && pki ? { tls: { certificate: pki.serverCertPath, key: pki.serverKeyPath } } : {}),
      },
      // distribution 3 has validation.manifests.indexes.platforms; 2.8 silently ignores unknown
      // keys, so it is left out. 2.8 always requires an index's children to be present.
    };
    if (authMode === 'htpasswd') {
      const htpasswd = join(dir, 'htpasswd');
      // cost 4 (the minimum): the registry bcrypt-compares on every request, keep it cheap.
      // bcryptjs writes $2b$; distribution (golang.org/x/crypto/bcrypt) accepts $2a$/$2b$/$2y$.
      writeFileSync(htpasswd, users.map((u) => `${u.username}:${bcrypt.hashSync(u.password, 4)}\n`).join(''));
      config.auth = { htpasswd: { realm: 'oc-mirror-test', path: htpasswd } };
    } else if (authMode === 'token') {
      tokenServer = await startTokenServer({ ...options.token, users });
      config.auth = {
        token: {
          realm: tokenServer.realm,
          service: tokenServer.service,
          issuer: tokenServer.issuer,
          rootcertbundle: tokenServer.rootCertBundlePath,
        },
      };
    }

    let certDir: string | undefined;
    if (tls && pki) {
      certDir = join(dir, 'certs.d');
      mkdirSync(certDir);
      copyFileSync(pki.caCertPath, join(certDir, 'ca.crt'));
    }

    const configPath = join(dir, 'config.yml');
    const scheme = tls ? 'https' : 'http';
    let port = 0;
    // freePort() can race with other test processes: retry on "address already in use"
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      (config.http as Record<string, unknown>).addr = `${LOOPBACK}:${port}`;
      writeFileSync(configPath, stringify(config));
      output = '';
      releaseWatchdog(child); // a previous attempt's
      const proc = spawn('/bin/sh', ['-c', WATCHDOG, 'sh', tools.registry, configPath], {
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        env: registryEnv(),
      });
      child = proc;
      trackChild(proc);
      const collect = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.length > MAX_LOG) output = output.slice(output.length - MAX_LOG / 2);
      };
      proc.stdout?.on('data', collect);
      proc.stderr?.on('data', collect);
      const ready = await waitReady(`${scheme}://${LOOPBACK}:${port}`, proc, tls ? pki?.caCertPath : undefined, () => output);
      if (ready === 'ready') break;
      if (ready === 'exited' && /address already in use/.test(output) && attempt < 5) continue;
      throw new Error(`docker-registry did not become ready on port ${port} (${ready}). Output:\n${output}`);
    }

    const host = `${LOOPBACK}:${port}`;
    let authFile: string | undefined;
    if (users[0]) {
      authFile = join(dir, 'auth.json');
      writeAuthFile(authFile, host, users[0]);
    }

    let stopped: Promise<void> | undefined;
    const reg: TestRegistry = {
      host,
      url: `${scheme}://${host}`,
      rootDir,
      tls,
      auth: authMode,
      caCertPath: tls ? pki?.caCertPath : undefined,
      certDir,
      username: users[0]?.username,
      password: users[0]?.password,
      users,
      authFile,
      tokenServer,
      configPath,
      logs: () => output,
      stop: () => (stopped ??= cleanup()),
    };
    t?.after(() => reg.stop());
    return reg;
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * Polls GET /v2/ until it answers anything (200 or 401), the child exits, or time runs out.
 * An answer only counts once our child's access log shows it: otherwise a server of another test
 * process that won the race for the port could pass for ours.
 */
async function waitReady(
  url: string,
  child: ChildProcess,
  caCertPath: string | undefined,
  output: () => string,
): Promise<'ready' | 'exited' | 'timeout'> {
  let exited = child.exitCode !== null;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const dispatcher = dispatcherFor({ caCertPath });
  while (Date.now() < deadline) {
    if (exited) return 'exited';
    try {
      const res = await request(`${url}/v2/`, { dispatcher, headersTimeout: 2000, bodyTimeout: 2000 });
      await res.body.dump();
      if ((res.statusCode === 200 || res.statusCode === 401) && output().includes('"GET /v2/ HTTP')) return 'ready';
    } catch {
      // not listening yet
    }
    await sleep(15);
  }
  return exited ? 'exited' : 'timeout';
}
