import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { compileBlockedPattern } from '../../src/config/blocked.js';
import { archiveSizeGiB, catalogUniqueName, isSemverLike, normalizeSemver } from '../../src/config/index.js';

describe('isSemverLike (Masterminds NewVersion grammar)', () => {
  const accepted = ['1.2.3', 'v1.2.3', '1.2', 'v4.18', '1', '0.0.1', '5.2.3-31', '1.0.0-rc.1', '1.0.0-alpha-1.beta', '1.0.0+build.7', '1.2-rc.1+b'];
  const refused = ['', '4.x', '4.18.*', 'latest', '1.2.3.4', 'V1.2.3', '1.02.3', '01.2', '1.0.0-01', '1.0.0-', '1.0.0+', ' 1.2.3', '>=1.2.3', '1..2'];
  for (const v of accepted) test(`accepts ${JSON.stringify(v)}`, () => assert.equal(isSemverLike(v), true));
  for (const v of refused) test(`refuses ${JSON.stringify(v)}`, () => assert.equal(isSemverLike(v), false));

  test('normalizeSemver fills in what Masterminds implies', () => {
    assert.equal(normalizeSemver('v4.18'), '4.18.0');
    assert.equal(normalizeSemver('1'), '1.0.0');
    assert.equal(normalizeSemver('1.2-rc.1+b'), '1.2.0-rc.1+b');
    assert.equal(normalizeSemver('4.x'), undefined);
  });
});

describe('compileBlockedPattern (Go RE2 → JavaScript)', () => {
  const matches = (pattern: string, subject: string) => compileBlockedPattern(pattern).test(subject);

  test('matches unanchored, as Go MatchString', () => {
    assert.equal(matches('blocked', 'quay.io/org/blocked-tool:1'), true);
    assert.equal(matches('^blocked', 'quay.io/org/blocked-tool:1'), false);
  });

  test('leading (?i), (?s), (?m) become flags, alone or combined', () => {
    assert.equal(matches('(?i)QUAY', 'quay.io/a/b:1'), true);
    assert.equal(matches('QUAY', 'quay.io/a/b:1'), false);
    assert.equal(matches('(?s)a.b', 'a\nb'), true);
    assert.equal(matches('a.b', 'a\nb'), false);
    assert.equal(matches('(?m)^b$', 'a\nb\nc'), true);
    assert.equal(compileBlockedPattern('(?is)x').flags, 'isu');
    assert.equal(compileBlockedPattern('(?i)(?m)x').flags, 'imu');
  });

  test('Go-only syntax with a JavaScript equivalent is translated', () => {
    assert.equal(matches('(?P<repo>[a-z]+)/tool', 'quay.io/org/tool:1'), true);
    assert.equal(matches('tool\\:1', 'quay.io/org/tool:1'), true);
    assert.equal(matches('a\\-b', 'quay.io/a-b:1'), true);
    assert.equal(matches('tool:1\\z', 'quay.io/org/tool:1'), true);
    assert.equal(matches('tool\\z', 'quay.io/org/tool:1'), false);
    assert.equal(matches('\\Aquay', 'quay.io/org/tool:1'), true);
    assert.equal(matches('^[[:alpha:]]+\\.io', 'quay.io/org/tool:1'), true);
    assert.equal(matches('^[[:digit:]]', 'quay.io/org/tool:1'), false);
    assert.equal(matches('a{', 'a{'), true);
    assert.equal(matches('x{2}', 'xx'), true);
    assert.equal(matches('[]a]', ']'), true);
  });

  test('Go-only syntax without an equivalent is refused, with the reason', () => {
    const refused: Array<[string, string]> = [
      ['(?U)a+', 'flag "U" in "(?U)" has no JavaScript equivalent'],
      ['\\Qa.b\\E', 'Invalid escape'],
      ['\\pL', 'Invalid property name'],
      ['(?i:abc)', 'Invalid group'],
      ['[[:^alpha:]]', 'character class "[:^alpha:]" has no JavaScript equivalent'],
      ['quay.io/(a|b', 'Unterminated group'],
    ];
    for (const [pattern, reason] of refused) {
      assert.throws(() => compileBlockedPattern(pattern), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.message, `blocked image "${pattern}": invalid regular expression: ${reason}`);
        return true;
      });
    }
  });
});

describe('catalogUniqueName', () => {
  test('normalises the reference and applies targetCatalog and targetTag', () => {
    assert.equal(catalogUniqueName({ catalog: 'docker://registry.redhat.io/redhat/redhat-operator-index:v4.18' }), 'registry.redhat.io/redhat/redhat-operator-index:v4.18');
    assert.equal(
      catalogUniqueName({ catalog: 'registry.redhat.io/redhat/redhat-operator-index:v4.18', targetCatalog: 'mine/ops', targetTag: 'x' }),
      'registry.redhat.io/mine/ops:x',
    );
    assert.equal(
      catalogUniqueName({ catalog: 'quay.io/a/b@sha256:20f695d2a91352d4eaa25107535126727b5945bff38ed36a3e59590f495046f0', targetTag: 'pinned' }),
      'quay.io/a/b:pinned',
    );
    assert.equal(catalogUniqueName({ catalog: 'oci:///cat', targetCatalog: 'a/b', targetTag: 't' }), 'oci:///cat as a/b:t');
  });
});

describe('archiveSizeGiB', () => {
  test('defaults to 500 GiB', () => {
    assert.equal(archiveSizeGiB({}), 500);
    assert.equal(archiveSizeGiB({ archiveSize: 8 }), 8);
    assert.equal(archiveSizeGiB({ archiveSize: 0 }), 500, 'oc-mirror reads 0 as the default');
  });
});
