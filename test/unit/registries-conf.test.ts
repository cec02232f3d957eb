import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { isRetryable } from '../../src/copy/retry.js';
import { AuthError, NotFoundError, RegistryError } from '../../src/errors.js';
import type { Descriptor, RawManifest } from '../../src/image/manifest.js';
import { parseReference } from '../../src/image/reference.js';
import type { ImageSource } from '../../src/image/transport.js';
import { MirroredSource } from '../../src/registry/mirrored-source.js';
import {
  loadRegistriesConf,
  locateRegistriesConf,
  parseRegistriesConf,
  RegistriesConfError,
  RegistryBlockedError,
  resolvePull,
  type PullSource,
  type RegistriesConf,
} from '../../src/registry/registries-conf.js';
import { tempDir } from '../support/cleanup.js';

const FILE = '/test/registries.conf';
const DIGEST = `sha256:${'a'.repeat(64)}`;

function conf(text: string): RegistriesConf {
  const parsed = parseRegistriesConf(text, FILE);
  return { files: [FILE], rules: parsed.rules, ignored: parsed.ignored };
}

/** `host/repo[:tag][@digest]` of each candidate, with `!` for insecure and `(m)` for mirrors. */
function pulls(c: RegistriesConf, ref: string): string[] {
  return resolvePull(c, parseReference(ref)).map(show);
}

function show(p: PullSource): string {
  return `${p.registry}/${p.repository}${p.tag ? `:${p.tag}` : ''}${p.digest ? `@${p.digest.slice(0, 9)}` : ''}${p.insecure ? ' !' : ''}${p.mirror ? ' (m)' : ''}`;
}

function rejects(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseRegistriesConf(text, FILE),
    (err: unknown) => {
      assert.ok(err instanceof RegistriesConfError, String(err));
      assert.match(err.message, pattern);
      assert.ok(err.message.startsWith(FILE), `names the file: ${err.message}`);
      assert.ok(!err.message.includes('\n'), 'one line');
      return true;
    },
  );
}

describe('registries.conf parsing', () => {
  test('every v2 setting, with defaults: prefix = location, insecure/blocked false, pull-from-mirror all', () => {
    const c = conf(`
unqualified-search-registries = ["registry.fedoraproject.org", "docker.io"]
short-name-mode = "enforcing"

[[registry]]
prefix = "registry.redhat.io/ubi9"
location = "registry.redhat.io/ubi9/"
mirror-by-digest-only = true

[[registry.mirror]]
location = "enterprise.example.com:5000/rh/ubi9"
insecure = true

[[registry.mirror]]
location = "backup.example.com/ubi9"

[[registry]]
location = "quay.io"
insecure = true

[[registry.mirror]]
location = "mirror.example.com/quay"
pull-from-mirror = "tag-only"

[[registry]]
location = "evil.example.com"
blocked = true
`);
    assert.deepEqual(c.rules, [
      {
        prefix: 'registry.redhat.io/ubi9',
        location: 'registry.redhat.io/ubi9',
        insecure: false,
        blocked: false,
        mirrorByDigestOnly: true,
        mirrors: [
          { location: 'enterprise.example.com:5000/rh/ubi9', insecure: true, pullFromMirror: 'all' },
          { location: 'backup.example.com/ubi9', insecure: false, pullFromMirror: 'all' },
        ],
        file: FILE,
      },
      {
        prefix: 'quay.io',
        location: 'quay.io',
        insecure: true,
        blocked: false,
        mirrorByDigestOnly: false,
        mirrors: [{ location: 'mirror.example.com/quay', insecure: false, pullFromMirror: 'tag-only' }],
        file: FILE,
      },
      { prefix: 'evil.example.com', location: 'evil.example.com', insecure: false, blocked: true, mirrorByDigestOnly: false, mirrors: [], file: FILE },
    ]);
    assert.deepEqual(
      c.ignored.map((i) => [i.key, i.unknown]),
      [
        ['unqualified-search-registries', false],
        ['short-name-mode', false],
      ],
    );
    assert.match(c.ignored[0]!.reason, /short names/);
  });

  test('irrelevant and unknown keys are ignored with a reason; unknown ones are flagged', () => {
    const parsed = parseRegistriesConf(
      `
credential-helpers = ["containers-auth.json"]
colour = "blue"
[aliases]
"fedora" = "registry.fedoraproject.org/fedora"
[[registry]]
location = "quay.io"
mirror-by-digest-onyl = true
[[registry.mirror]]
location = "m.example.com"
speed = 3
`,
      FILE,
    );
    assert.deepEqual(
      parsed.ignored.map((i) => [i.key, i.unknown]),
      [
        ['[[registry.mirror]] "m.example.com" speed', true],
        ['[[registry]] "quay.io" mirror-by-digest-onyl', true],
        ['credential-helpers', false],
        ['colour', true],
        ['aliases', false],
      ],
    );
    assert.ok(parsed.ignored.every((i) => i.file === FILE && i.reason.length > 0));
    assert.equal(parsed.rules[0]!.mirrorByDigestOnly, false, 'a misspelt key changes nothing');
  });

  test('the v1 format is refused with a clear error', () => {
    rejects('[registries.search]\nregistries = ["docker.io"]\n', /\[registries\.search\] is the registries\.conf v1 format, which is not supported; write \[\[registry\]\]/);
    rejects('[registries.block]\nregistries = []\n', /\[registries\.block\] is the registries\.conf v1 format/);
  });

  test('bad values name the file, the entry and the key', () => {
    rejects('[[registry]]\nlocation = "quay.io"\ninsecure = "yes"\n', /^\/test\/registries\.conf: \[\[registry\]\] #1 \(quay\.io\): "insecure" must be true or false, not "yes"$/);
    rejects('[[registry]]\nlocation = 5\n', /\[\[registry\]\] #1: "location" must be a string, not 5/);
    rejects('[[registry]]\nlocation = "a.io"\n[[registry]]\nprefix = "b.io"\nlocation = "c.io"\nblocked = 1\n', /\[\[registry\]\] #2 \(b\.io\): "blocked" must be true or false/);
    rejects('[registry]\nlocation = "quay.io"\n', /"registry" must be an array of tables \(write \[\[registry\]\], not \[registry\]\)/);
    rejects('[[registry]]\ninsecure = true\n', /"prefix" and "location" are both unset/);
    rejects('[[registry]]\nprefix = "quay.io/x"\n', /"location" is required unless the prefix is a wildcard/);
    rejects('[[registry]]\nlocation = "https://quay.io"\n', /"location" "https:\/\/quay\.io": URI schemes are not supported/);
    rejects('[[registry]]\nlocation = "mirror/path"\n', /"mirror" is not a registry host/);
    rejects('[[registry]]\nprefix = "*.example.com/ns"\n', /a wildcard prefix is \*\.domain only/);
    rejects('[[registry]]\nprefix = "registry.*.com"\nlocation = "m.io"\n', /a wildcard is only allowed as a leading "\*\."/);
    rejects('[[registry]]\nlocation = "quay.io"\npull-from-mirror = "all"\n', /"pull-from-mirror" is a setting of \[\[registry\.mirror\]\]/);
    rejects('[[registry]]\nlocation = "quay.io"\n[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "sometimes"\n', /mirror #1: "pull-from-mirror" must be all, digest-only or tag-only, not "sometimes"/);
    rejects(
      '[[registry]]\nlocation = "quay.io"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "digest-only"\n',
      /cannot be set when the registry has mirror-by-digest-only = true/,
    );
    rejects('[[registry]]\nlocation = "quay.io"\n[[registry.mirror]]\ninsecure = true\n', /mirror #1: "location" is required for a mirror/);
    rejects('[[registry]]\nprefix = "a.io"\nlocation = "m.io"\n[[registry]]\nprefix = "b.io"\nlocation = "m.io"\ninsecure = true\n', /registry "m\.io" is defined more than once with conflicting "insecure"/);
    rejects('[[registry]]\nlocation = \n', /^\/test\/registries\.conf:2:12: Invalid TOML document/);
  });

  test('a prefix with a tag is accepted but noted: pulls are matched on the repository name', () => {
    const c = conf('[[registry]]\nprefix = "quay.io/a/b:v1"\nlocation = "m.io/b"\n');
    assert.match(c.ignored[0]!.reason, /never matches a pull/);
    assert.deepEqual(pulls(c, 'quay.io/a/b:v1'), ['quay.io/a/b:v1']);
  });

  test('an entry repeated in one file: the later one wins, and that is noted', () => {
    const c = conf('[[registry]]\nlocation = "quay.io"\n[[registry]]\nlocation = "quay.io"\n[[registry.mirror]]\nlocation = "m.io"\n');
    assert.equal(c.rules.length, 1);
    assert.equal(c.rules[0]!.mirrors.length, 1);
    assert.match(c.ignored[0]!.reason, /later entry wins/);
  });
});

describe('prefix matching', () => {
  const c = conf(`
[[registry]]
prefix = "registry.redhat.io"
location = "all.example.com/rh"
[[registry]]
prefix = "registry.redhat.io/ubi9"
location = "ubi.example.com/ubi9"
[[registry]]
prefix = "registry.redhat.io/ubi9/ubi-minimal"
location = "minimal.example.com/ubi-minimal"
[[registry]]
prefix = "*.example.org"
location = "wild.example.com/org"
[[registry]]
prefix = "special.example.org"
location = "special.example.com"
[[registry]]
prefix = "*.internal.example"
`);

  test('host, host/namespace and repository prefixes: the longest match wins', () => {
    assert.deepEqual(pulls(c, 'registry.redhat.io/openshift4/ose-cli:v4.18'), ['all.example.com/rh/openshift4/ose-cli:v4.18']);
    assert.deepEqual(pulls(c, 'registry.redhat.io/ubi9/ubi:9.4'), ['ubi.example.com/ubi9/ubi:9.4']);
    assert.deepEqual(pulls(c, 'registry.redhat.io/ubi9/ubi-minimal:9.4'), ['minimal.example.com/ubi-minimal:9.4']);
    assert.deepEqual(pulls(c, 'registry.redhat.io/ubi9:latest'), ['ubi.example.com/ubi9:latest'], 'the prefix itself is a repository');
  });

  test('a prefix matches whole path components and whole hosts only', () => {
    assert.deepEqual(pulls(c, 'registry.redhat.io/ubi99/ubi:1'), ['all.example.com/rh/ubi99/ubi:1']);
    assert.deepEqual(pulls(c, 'registry.redhat.io/ubi9/ubi-minimalist:1'), ['ubi.example.com/ubi9/ubi-minimalist:1']);
    assert.deepEqual(pulls(c, 'registry.redhat.io.evil.com/ubi9/ubi:1'), ['registry.redhat.io.evil.com/ubi9/ubi:1']);
    assert.deepEqual(pulls(c, 'registry.redhat.io:5000/ubi9/ubi:1'), ['registry.redhat.io:5000/ubi9/ubi:1'], 'another port is another registry');
  });

  test('wildcards cover subdomains (any port), not the bare domain; an exact host beats a wildcard', () => {
    assert.deepEqual(pulls(c, 'a.example.org/x/y:1'), ['wild.example.com/org/x/y:1']);
    assert.deepEqual(pulls(c, 'a.b.example.org:8443/x:1'), ['wild.example.com/org/x:1'], 'the whole host is replaced');
    assert.deepEqual(pulls(c, 'example.org/x:1'), ['example.org/x:1']);
    assert.deepEqual(pulls(c, 'notexample.org/x:1'), ['notexample.org/x:1']);
    assert.deepEqual(pulls(c, 'special.example.org/x:1'), ['special.example.com/x:1']);
    assert.deepEqual(pulls(c, 'git.internal.example/team/app:1'), ['git.internal.example/team/app:1'], 'a wildcard without location keeps the name');
  });

  test('no matching entry: the reference itself', () => {
    const ref = parseReference('quay.io/org/app@' + DIGEST);
    assert.deepEqual(resolvePull(c, ref), [{ ...ref, insecure: false, mirror: false }]);
    assert.deepEqual(resolvePull({ files: [], rules: [], ignored: [] }, ref), [{ ...ref, insecure: false, mirror: false }]);
  });

  test('Docker Hub names are matched normalised', () => {
    const hub = conf('[[registry]]\nprefix = "docker.io/library"\nlocation = "hub.example.com/library"\n');
    assert.deepEqual(pulls(hub, 'busybox:1.36'), ['hub.example.com/library/busybox:1.36']);
  });

  test('a rewrite that leaves no repository is refused', () => {
    const c2 = conf('[[registry]]\nprefix = "quay.io/org/app"\nlocation = "m.example.com"\n');
    assert.throws(() => pulls(c2, 'quay.io/org/app:1'), /quay\.io\/org\/app:1 rewrites to "m\.example\.com", which is not an image name/);
  });
});

describe('mirrors', () => {
  const c = conf(`
[[registry]]
prefix = "registry.redhat.io"
location = "registry.redhat.io"

[[registry.mirror]]
location = "any.example.com/rh"
insecure = true

[[registry.mirror]]
location = "digests.example.com/rh"
pull-from-mirror = "digest-only"

[[registry.mirror]]
location = "tags.example.com/rh"
pull-from-mirror = "tag-only"

[[registry]]
prefix = "quay.io"
location = "quay.io"
mirror-by-digest-only = true

[[registry.mirror]]
location = "quay-mirror.example.com"
`);

  test('mirrors in order then the primary; digest-only mirrors skipped for tags, tag-only ones for digests', () => {
    assert.deepEqual(pulls(c, 'registry.redhat.io/ubi9/ubi:9.4'), [
      'any.example.com/rh/ubi9/ubi:9.4 ! (m)',
      'tags.example.com/rh/ubi9/ubi:9.4 (m)',
      'registry.redhat.io/ubi9/ubi:9.4',
    ]);
    assert.deepEqual(pulls(c, `registry.redhat.io/ubi9/ubi@${DIGEST}`), [
      'any.example.com/rh/ubi9/ubi@sha256:aa ! (m)',
      'digests.example.com/rh/ubi9/ubi@sha256:aa (m)',
      'registry.redhat.io/ubi9/ubi@sha256:aa',
    ]);
  });

  test('mirror-by-digest-only: mirrors only for digests; a tag together with a digest is a digest pull', () => {
    assert.deepEqual(pulls(c, 'quay.io/org/app:v1'), ['quay.io/org/app:v1']);
    assert.deepEqual(pulls(c, `quay.io/org/app:v1@${DIGEST}`), ['quay-mirror.example.com/org/app:v1@sha256:aa (m)', 'quay.io/org/app:v1@sha256:aa']);
  });
});

describe('blocked registries', () => {
  test('a blocked match refuses the pull, mirrors or not', () => {
    const c = conf('[[registry]]\nlocation = "docker.io"\nblocked = true\n[[registry.mirror]]\nlocation = "m.example.com"\n');
    assert.throws(
      () => pulls(c, 'nginx:1.27'),
      (err: unknown) => err instanceof RegistryBlockedError && err.message === `docker.io/library/nginx:1.27: registry docker.io is blocked in ${FILE}`,
    );
  });

  test('a blocked origin host drops the primary: only the mirrors are tried', () => {
    const c = conf(`
[[registry]]
location = "registry.redhat.io"
blocked = true

[[registry]]
prefix = "registry.redhat.io/ubi9"
location = "registry.redhat.io/ubi9"
[[registry.mirror]]
location = "enterprise.example.com/ubi9"
pull-from-mirror = "digest-only"
`);
    assert.deepEqual(pulls(c, `registry.redhat.io/ubi9/ubi@${DIGEST}`), ['enterprise.example.com/ubi9/ubi@sha256:aa (m)']);
    assert.throws(
      () => pulls(c, 'registry.redhat.io/ubi9/ubi:9.4'),
      { name: 'RegistryBlockedError', message: /^registry\.redhat\.io\/ubi9\/ubi:9\.4: registry registry\.redhat\.io is blocked in \/test\/registries\.conf; its mirror serves digests only$/ },
    );
  });
});

describe('files: lookup order and drop-ins', () => {
  function layout(t: { after: (fn: () => unknown) => void }) {
    const root = tempDir(t, 'regconf');
    const home = join(root, 'home');
    const etc = join(root, 'etc', 'containers');
    mkdirSync(join(home, '.config', 'containers'), { recursive: true });
    mkdirSync(etc, { recursive: true });
    return { root, home, etc, system: join(etc, 'registries.conf'), user: join(home, '.config', 'containers', 'registries.conf') };
  }
  const entry = (prefix: string, location: string) => `[[registry]]\nprefix = "${prefix}"\nlocation = "${location}"\n`;

  test('$CONTAINERS_REGISTRIES_CONF, else the per-user file, else the system file; none is an empty configuration', (t) => {
    const l = layout(t);
    const env = { HOME: l.home };
    assert.deepEqual(loadRegistriesConf(undefined, env, l.system), { files: [], rules: [], ignored: [] });

    writeFileSync(l.system, entry('quay.io', 'system.example.com'));
    assert.equal(pulls(loadRegistriesConf(undefined, env, l.system), 'quay.io/a:1')[0], 'system.example.com/a:1');

    writeFileSync(l.user, entry('quay.io', 'user.example.com'));
    assert.equal(pulls(loadRegistriesConf(undefined, env, l.system), 'quay.io/a:1')[0], 'user.example.com/a:1');

    const own = join(l.root, 'mine.conf');
    writeFileSync(own, entry('quay.io', 'env.example.com'));
    assert.equal(pulls(loadRegistriesConf(undefined, { ...env, CONTAINERS_REGISTRIES_CONF: own }, l.system), 'quay.io/a:1')[0], 'env.example.com/a:1');

    const explicit = join(l.root, 'flag.conf');
    writeFileSync(explicit, entry('quay.io', 'flag.example.com'));
    assert.equal(pulls(loadRegistriesConf(explicit, { ...env, CONTAINERS_REGISTRIES_CONF: own }, l.system), 'quay.io/a:1')[0], 'flag.example.com/a:1');
  });

  test('a named file that does not exist is an error, not a silent fallback', (t) => {
    const l = layout(t);
    writeFileSync(l.system, entry('quay.io', 'system.example.com'));
    const missing = join(l.root, 'nope.conf');
    assert.throws(() => loadRegistriesConf(undefined, { HOME: l.home, CONTAINERS_REGISTRIES_CONF: missing }, l.system), (err: unknown) =>
      err instanceof RegistriesConfError && err.message === `CONTAINERS_REGISTRIES_CONF=${missing}: no such registries.conf file`,
    );
    assert.throws(() => loadRegistriesConf(missing, { HOME: l.home }, l.system), { message: `${missing}: no such registries.conf file` });
  });

  test('drop-ins: *.conf by name after the main file; a later file replaces an entry with the same prefix', (t) => {
    const l = layout(t);
    writeFileSync(l.system, entry('quay.io', 'main.example.com') + entry('registry.redhat.io', 'rh-main.example.com'));
    const d = join(l.etc, 'registries.conf.d');
    mkdirSync(d);
    writeFileSync(join(d, '20-late.conf'), entry('quay.io', 'late.example.com'));
    writeFileSync(join(d, '10-early.conf'), entry('quay.io', 'early.example.com') + entry('ghcr.io', 'gh.example.com'));
    writeFileSync(join(d, 'notes.txt'), 'not toml at all [[[');
    writeFileSync(join(d, '30-aliases.conf'), '[aliases]\n"fedora" = "registry.fedoraproject.org/fedora"\n');
    const userD = join(l.home, '.config', 'containers', 'registries.conf.d');
    mkdirSync(userD);
    writeFileSync(join(userD, '00-user.conf'), entry('ghcr.io', 'user-gh.example.com'));

    const c = loadRegistriesConf(undefined, { HOME: l.home }, l.system);
    assert.deepEqual(c.files, [l.system, join(d, '10-early.conf'), join(d, '20-late.conf'), join(d, '30-aliases.conf'), join(userD, '00-user.conf')]);
    assert.equal(pulls(c, 'quay.io/a:1')[0], 'late.example.com/a:1');
    assert.equal(pulls(c, 'registry.redhat.io/a:1')[0], 'rh-main.example.com/a:1');
    assert.equal(pulls(c, 'ghcr.io/a:1')[0], 'user-gh.example.com/a:1', "the user's drop-ins come last");
    assert.deepEqual(c.rules.map((r) => r.prefix), ['ghcr.io', 'quay.io', 'registry.redhat.io']);
    assert.deepEqual(c.rules.map((r) => r.file), [join(userD, '00-user.conf'), join(d, '20-late.conf'), l.system]);
    assert.deepEqual(c.ignored.map((i) => [i.file, i.key]), [[join(d, '30-aliases.conf'), 'aliases']]);
  });

  test('a named file reads only the drop-ins next to it; a v1 drop-in is refused naming it', (t) => {
    const l = layout(t);
    writeFileSync(l.system, entry('quay.io', 'system.example.com'));
    mkdirSync(join(l.etc, 'registries.conf.d'));
    writeFileSync(join(l.etc, 'registries.conf.d', 'x.conf'), entry('ghcr.io', 'system-gh.example.com'));
    const dir = join(l.root, 'enclave');
    mkdirSync(join(dir, 'registries.conf.d'), { recursive: true });
    writeFileSync(join(dir, 'registries.conf'), entry('quay.io', 'enclave.example.com'));
    writeFileSync(join(dir, 'registries.conf.d', 'gh.conf'), entry('ghcr.io', 'enclave-gh.example.com'));
    const c = loadRegistriesConf(undefined, { HOME: l.home, CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf') }, l.system);
    assert.deepEqual(c.files, [join(dir, 'registries.conf'), join(dir, 'registries.conf.d', 'gh.conf')]);
    assert.equal(pulls(c, 'ghcr.io/a:1')[0], 'enclave-gh.example.com/a:1');

    writeFileSync(join(dir, 'registries.conf.d', 'old.conf'), '[registries.insecure]\nregistries = ["x.io"]\n');
    assert.throws(() => loadRegistriesConf(join(dir, 'registries.conf'), { HOME: l.home }, l.system), {
      message: new RegExp(`^${join(dir, 'registries.conf.d', 'old.conf')}: \\[registries.insecure\\] is the registries.conf v1 format`),
    });
  });

  test('locateRegistriesConf tells the file and the drop-in directories', (t) => {
    const l = layout(t);
    assert.deepEqual(locateRegistriesConf(undefined, { HOME: l.home }, l.system), {
      dropInDirs: [join(l.etc, 'registries.conf.d'), join(l.home, '.config', 'containers', 'registries.conf.d')],
    });
    writeFileSync(l.user, '');
    assert.deepEqual(locateRegistriesConf(undefined, { HOME: l.home }, l.system), {
      file: l.user,
      dropInDirs: [join(l.home, '.config', 'containers', 'registries.conf.d')],
    });
  });
});

// ---------------------------------------------------------------------------------------------
// MirroredSource over fake sources

type Behaviour = 'ok' | Error;

class FakeSource implements ImageSource {
  readonly calls: string[] = [];
  constructor(
    readonly name: string,
    private readonly manifests: Record<string, Behaviour>,
    private readonly blobs: Record<string, Behaviour> = {},
  ) {}

  async getManifest(reference: string): Promise<RawManifest> {
    this.calls.push(`manifest ${reference}`);
    const b = this.manifests[reference] ?? new NotFoundError(`${this.name}: get manifest ${reference}: HTTP 404`, 404);
    if (b !== 'ok') throw b;
    return { bytes: Buffer.from(`${this.name} ${reference}`), mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: DIGEST };
  }

  async getBlob(desc: Descriptor): Promise<Readable> {
    this.calls.push(`blob ${desc.digest}`);
    const b = this.blobs[desc.digest] ?? new NotFoundError(`${this.name}: get blob ${desc.digest}: HTTP 404`, 404);
    if (b !== 'ok') throw b;
    return Readable.from([Buffer.from(this.name)]);
  }
}

function collectingLog() {
  const lines: string[] = [];
  return { lines, debug: (m: string) => void lines.push(m) };
}

async function text(r: Readable): Promise<string> {
  let s = '';
  for await (const c of r) s += String(c);
  return s;
}

const blob = (n: string): Descriptor => ({ mediaType: 'application/octet-stream', digest: `sha256:${n.repeat(64)}`, size: 1 });

describe('MirroredSource', () => {
  test('moves past a mirror without the image, remembers who served, and asks it first for blobs', async () => {
    const empty = new FakeSource('m1.example.com/rh/ubi', {}, { [blob('c').digest]: 'ok' });
    const full = new FakeSource('m2.example.com/rh/ubi', { '9.4': 'ok', [DIGEST]: 'ok' }, { [blob('b').digest]: 'ok', [blob('c').digest]: 'ok' });
    const log = collectingLog();
    const src = new MirroredSource('registry.redhat.io/ubi9/ubi', [empty, full], log);

    assert.equal((await src.getManifest('9.4')).bytes.toString(), 'm2.example.com/rh/ubi 9.4');
    assert.deepEqual(log.lines, ['registry.redhat.io/ubi9/ubi:9.4: manifest served by m2.example.com/rh/ubi (skipped: m1.example.com/rh/ubi: get manifest 9.4: HTTP 404)']);
    await src.getManifest('9.4');
    await src.getManifest(DIGEST);
    assert.deepEqual(empty.calls, ['manifest 9.4'], 'the same tag and the child manifests go straight to the mirror that served the image');

    assert.equal(await text(await src.getBlob(blob('c'))), 'm2.example.com/rh/ubi', 'blobs come from where the manifest came from');
    assert.equal(await text(await src.getBlob(blob('b'))), 'm2.example.com/rh/ubi');
    assert.deepEqual(empty.calls, ['manifest 9.4']);
  });

  test('a blob missing where its manifest was comes from another source', async () => {
    const a = new FakeSource('a.example.com/x', { v1: 'ok' });
    const b = new FakeSource('b.example.com/x', {}, { [blob('d').digest]: 'ok' });
    const log = collectingLog();
    const src = new MirroredSource('quay.io/x', [a, b], log);
    await src.getManifest('v1');
    assert.equal(await text(await src.getBlob(blob('d'))), 'b.example.com/x');
    assert.match(log.lines[1]!, /^quay\.io\/x@sha256:d+: blob served by b\.example\.com\/x \(skipped: a\.example\.com\/x: get blob sha256:d+: HTTP 404\)$/);
  });

  test('connection and auth failures move on too', async () => {
    const down = new FakeSource('down.example.com/x', { v1: Object.assign(new Error('down.example.com: connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const denied = new FakeSource('denied.example.com/x', { v1: new AuthError('denied.example.com/x: get manifest v1: HTTP 401', 401) });
    const ok = new FakeSource('ok.example.com/x', { v1: 'ok' });
    const src = new MirroredSource('quay.io/x', [down, denied, ok], collectingLog());
    assert.equal((await src.getManifest('v1')).bytes.toString(), 'ok.example.com/x v1');
  });

  test('when every source fails: one line naming each source and why, of the most hopeful kind', async () => {
    const missing = new FakeSource('m.example.com/x', {});
    const down = new FakeSource('quay.io/x', { v1: Object.assign(new Error('quay.io: connect ECONNREFUSED 1.2.3.4:443'), { code: 'ECONNREFUSED' }) });
    const denied = new FakeSource('d.example.com/x', { v1: new AuthError('d.example.com/x: get manifest v1: HTTP 401; no credentials found for d.example.com in the auth file', 401) });

    const notFound = await new MirroredSource('quay.io/x', [missing, new FakeSource('n.example.com/x', {})], collectingLog()).getManifest('v1').catch((e: unknown) => e);
    assert.ok(notFound instanceof NotFoundError, 'all not found: not found, so not retried');
    assert.equal(notFound.message, 'quay.io/x:v1: every pull source failed: m.example.com/x: get manifest v1: HTTP 404; n.example.com/x: get manifest v1: HTTP 404');

    const transient = (await new MirroredSource('quay.io/x', [missing, down], collectingLog()).getManifest('v1').catch((e: unknown) => e)) as Error;
    assert.equal(transient.message, 'quay.io/x:v1: every pull source failed: m.example.com/x: get manifest v1: HTTP 404; quay.io/x: connect ECONNREFUSED 1.2.3.4:443');
    assert.ok(isRetryable(transient), 'an unreachable origin is worth a retry even if a mirror lacks the image');

    const auth = await new MirroredSource('quay.io/x', [missing, denied], collectingLog()).getManifest('v1').catch((e: unknown) => e);
    assert.ok(auth instanceof AuthError && !isRetryable(auth));

    const busy = new FakeSource('b.example.com/x', { v1: new RegistryError('b.example.com/x: get manifest v1: HTTP 503', 503, 5) });
    const slow = await new MirroredSource('quay.io/x', [denied, busy], collectingLog()).getManifest('v1').catch((e: unknown) => e);
    assert.ok(slow instanceof RegistryError && slow.status === 503 && slow.retryAfter === 5 && isRetryable(slow));
  });

  test('a cancelled read stops at once', async () => {
    const abort = new AbortController();
    const first = new FakeSource('a.example.com/x', {});
    first.getManifest = async () => {
      abort.abort();
      throw Object.assign(new Error('aborted'), { name: 'AbortError' });
    };
    const second = new FakeSource('b.example.com/x', { v1: 'ok' });
    await assert.rejects(new MirroredSource('quay.io/x', [first, second], collectingLog()).getManifest('v1', abort.signal), { name: 'AbortError' });
    assert.deepEqual(second.calls, []);
  });
});
