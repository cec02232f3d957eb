import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pushImage, type PushedImage } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { integrationSuite } from '../support/tools.js';
import { catalog, describeRun, ocMirror, sandbox, type Sandbox } from './m2m-helpers.js';

interface Case {
  name: string;
  /** the ISC body after kind/apiVersion; undefined keeps a valid one */
  config?: string;
  /** a whole file, replacing kind/apiVersion too */
  rawConfig?: string;
  /** arguments; {isc} {ws} {dest} {box} are replaced */
  args?: string[];
  stderr: RegExp;
}

describe('bad input: one line on stderr, exit 1, no stack, nothing pushed', integrationSuite(), () => {
  let src: TestRegistry;
  let dest: TestRegistry;
  let image: PushedImage;
  let box: Sandbox;

  before(async () => {
    src = await startRegistry();
    dest = await startRegistry();
    image = await pushImage(src, 'ok/app', 'v1', {});
    box = sandbox();
  });
  after(async () => {
    await Promise.all([src?.stop(), dest?.stop()]);
  });

  const valid = () => `mirror:\n  additionalImages:\n  - name: ${image.reference}\n`;
  const defaults = ['-c', '{isc}', '--workspace', 'file://{ws}', 'docker://{dest}/bad', '--src-tls-verify=false', '--dest-tls-verify=false'];

  const cases: Case[] = [
    { name: 'unknown field', config: 'mirror:\n  additionalImages:\n  - nmae: quay.io/a/b:1\n', stderr: /isc\.yaml:5 mirror\.additionalImages\[0\]\.nmae: unknown field/ },
    { name: 'wrong kind', rawConfig: 'kind: ImageSetConfig\napiVersion: mirror.openshift.io/v2alpha1\nmirror: {}\n', stderr: /isc\.yaml:1 kind: .*ImageSetConfig/ },
    { name: 'missing kind', rawConfig: 'apiVersion: mirror.openshift.io/v2alpha1\nmirror: {}\n', stderr: /kind/ },
    { name: 'YAML syntax error', rawConfig: 'kind: ImageSetConfiguration\nmirror:\n  additionalImages: [\n', stderr: /isc\.yaml:\d+ invalid YAML/ },
    { name: 'empty file', rawConfig: '', stderr: /isc\.yaml.*empty/ },
    { name: 'image without tag or digest', config: 'mirror:\n  additionalImages:\n  - name: quay.io/a/b\n', stderr: /mirror\.additionalImages\[0\]\.name: "quay\.io\/a\/b" has no tag or digest/ },
    { name: 'bad targetRepo', config: `mirror:\n  additionalImages:\n  - name: ${'quay.io/a/b:1'}\n    targetRepo: Bad/Repo:tag\n`, stderr: /mirror\.additionalImages\[0\]\.targetRepo: .*Bad\/Repo:tag/ },
    { name: 'bad blocked regexp', config: `${'mirror:\n  blockedImages:\n  - name: "a(b"\n'}`, stderr: /mirror\.blockedImages\[0\]\.name: "a\(b" is not a valid regular expression/ },
    { name: 'list expected, string given', config: 'mirror:\n  additionalImages: quay.io/a/b:1\n', stderr: /isc\.yaml:4 mirror\.additionalImages: expected a list/ },
    { name: 'non-semver operator minVersion', config: 'mirror:\n  operators:\n  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.18\n    packages:\n    - name: foo\n      minVersion: "4.x"\n', stderr: /mirror\.operators\[0\]\.packages\[0\]\.minVersion: "4\.x"/ },
    { name: 'duplicate release channel', config: 'mirror:\n  platform:\n    channels:\n    - name: stable-4.18\n    - name: stable-4.18\n', stderr: /mirror\.platform\.channels\[1\]\.name: duplicate release channel "stable-4\.18"/ },
    { name: 'helm chart path that does not exist', config: 'mirror:\n  helm:\n    local:\n    - name: c\n      path: /nonexistent/c\n', stderr: /isc\.yaml mirror\.helm\.local\[0\]: helm local chart c: cannot read \/nonexistent\/c/ },
    { name: 'helm imagePaths that is not a JSONPath', config: 'mirror:\n  helm:\n    local:\n    - name: c\n      path: /nonexistent/c\n      imagePaths: ["{.spec["]\n', stderr: /isc\.yaml mirror\.helm\.local\[0\]\.imagePaths\[0\]: "\{\.spec\[" is not a JSONPath/ },
    { name: 'missing config file', args: ['-c', '{ws}/nope.yaml', '--workspace', 'file://{ws}', 'docker://{dest}/bad'], stderr: /nope\.yaml/ },
    { name: 'no --config', args: ['--workspace', 'file://{ws}', 'docker://{dest}/bad'], stderr: /use the --config flag it is mandatory/ },
    { name: 'workspace without file://', args: ['-c', '{isc}', '--workspace', '{ws}', 'docker://{dest}/bad'], stderr: /when --workspace is used, it must have file:\/\/ prefix/ },
    { name: 'parallel-images out of range', args: [...defaults, '--parallel-images', '0'], stderr: /parallel-images must be between the range 1 to 10/ },
    { name: 'unknown flag', args: [...defaults, '--paralel-images', '2'], stderr: /unknown flag: --paralel-images/ },
    { name: 'unbuilt flag', args: [...defaults, '--dry-run-manifest-lists'], stderr: /--dry-run-manifest-lists is not supported/ },
    { name: 'bad duration', args: [...defaults, '--image-timeout', 'ten'], stderr: /invalid argument "ten" for "--image-timeout"/ },
    { name: 'destination without transport', args: ['-c', '{isc}', '--workspace', 'file://{ws}', '{dest}/bad'], stderr: /destination must have either file:\/\/ .* or docker:\/\// },
    { name: 'both --from and --workspace', args: ['-c', '{isc}', '--workspace', 'file://{ws}', '--from', 'file://{ws}', 'docker://{dest}/bad'], stderr: /cannot be used together/ },
    { name: 'bad destination path', args: ['-c', '{isc}', '--workspace', 'file://{ws}', 'docker://{dest}/Bad:Tag'], stderr: /not a valid repository path/ },
    { name: 'malformed authfile', args: [...defaults, '--authfile', '{box}/bad-auth.json'], stderr: /authfile .*bad-auth\.json: is not valid JSON/ },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      const ws = join(box.dir, c.name.replace(/\W+/g, '-'));
      const isc = join(box.dir, `${c.name.replace(/\W+/g, '-')}.yaml`);
      const file = join(box.dir, 'isc.yaml');
      const text = c.rawConfig ?? `kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\n${c.config ?? valid()}`;
      writeFileSync(file, text);
      writeFileSync(isc, text);
      writeFileSync(join(box.dir, 'bad-auth.json'), '{"auths": {"x": {"auth": "c2VjcmV0OnNlY3JldA=="}');
      const args = (c.args ?? defaults).map((a) =>
        a.replace('{isc}', c.args ? isc : file).replace('{ws}', ws).replace('{box}', box.dir).replace('{dest}', dest.host),
      );
      const r = await ocMirror(box, args);
      assert.equal(r.code, 1, describeRun(r));
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `exactly one line on stderr:\n${r.stderr}`);
      assert.match(lines[0]!, c.stderr);
      assert.match(lines[0]!, /^error: /);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
      assert.doesNotMatch(r.stderr, /c2VjcmV0|secret/, 'no secret echoed');
      assert.deepEqual(await catalog(dest), [], 'nothing pushed');
    });
  }
});
