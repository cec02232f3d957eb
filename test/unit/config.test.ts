import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/errors.js';
import {
  archiveSizeGiB,
  loadDeleteImageSetConfiguration,
  loadImageSetConfiguration,
  parseDeleteImageSetConfiguration,
  parseImageSetConfiguration,
  type DeleteImageSetConfiguration,
  type ImageSetConfiguration,
} from '../../src/config/index.js';
import { compileBlockedPattern } from '../../src/config/blocked.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'config');

/** A YAML document written indented in the test: the common indentation and the first newline go. */
function y(strings: TemplateStringsArray, ...values: unknown[]): string {
  const lines = String.raw({ raw: strings }, ...values).replace(/^\n/, '').split('\n');
  if (lines.length && !lines[lines.length - 1]!.trim()) lines.pop();
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return `${lines.map((l) => l.slice(indent)).join('\n')}\n`;
}

interface Case {
  name: string;
  /** which loader: an ImageSetConfiguration (default) or a DeleteImageSetConfiguration */
  delete?: boolean;
  text: string;
  /** the exact one-line message; absent means the file must load */
  error?: string;
  expect?: (config: ImageSetConfiguration) => void;
  expectDelete?: (config: DeleteImageSetConfiguration) => void;
}

const ISC = 'kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\n';

const cases: Case[] = [
  // ---- valid: the documentation's examples ------------------------------------------------
  {
    name: 'docs: creating the image set configuration',
    text: y`
      kind: ImageSetConfiguration
      apiVersion: mirror.openshift.io/v2alpha1
      mirror:
        platform:
          channels:
          - name: stable-4.13
            minVersion: 4.13.10
            maxVersion: 4.13.10
          graph: true
        operators:
          - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.13
            packages:
             - name: aws-load-balancer-operator
             - name: 3scale-operator
             - name: node-observability-operator
        additionalImages:
         - name: registry.redhat.io/ubi8/ubi:latest
         - name: registry.redhat.io/ubi9/ubi@sha256:20f695d2a91352d4eaa25107535126727b5945bff38ed36a3e59590f495046f0
    `,
    expect: (c) => {
      assert.equal(c.mirror.platform?.graph, true);
      assert.deepEqual(c.mirror.platform?.channels, [{ name: 'stable-4.13', minVersion: '4.13.10', maxVersion: '4.13.10' }]);
      assert.deepEqual(
        c.mirror.operators?.[0]?.packages?.map((p) => p.name),
        ['aws-load-balancer-operator', '3scale-operator', 'node-observability-operator'],
      );
      assert.equal(c.mirror.additionalImages?.length, 2);
      assert.equal(archiveSizeGiB(c), 500);
    },
  },
  {
    name: 'docs: enclave configuration with helm and blocked images',
    text: y`
      kind: ImageSetConfiguration
      apiVersion: mirror.openshift.io/v2alpha1
      archiveSize: 4
      mirror:
        platform:
          architectures:
            - amd64
            - multi
          channels:
          - name: stable-4.15
            minVersion: 4.15.0
            maxVersion: 4.15.3
          graph: true
        operators:
        - catalog: registry.redhat.io/redhat/redhat-operator-index:4.18
          packages:
          - name: elasticsearch-operator
            minVersion: '5.2.3-31'
        helm:
          local:
          - name: podinfo
            path: /test/podinfo-5.0.0.tar.gz
          repositories:
          - name: podinfo
            url: https://stefanprodan.github.io/podinfo
            charts:
            - name: podinfo
              version: 5.0.0
        blockedImages:
        - name: ".*blocked-image.*"
    `,
    expect: (c) => {
      assert.equal(archiveSizeGiB(c), 4);
      assert.deepEqual(c.mirror.platform?.architectures, ['amd64', 'multi']);
      assert.equal(c.mirror.operators?.[0]?.packages?.[0]?.minVersion, '5.2.3-31');
      assert.equal(c.mirror.helm?.repositories?.[0]?.charts?.[0]?.version, '5.0.0');
    },
  },
  {
    name: 'docs: operator filtering scenarios 1–13 all load',
    text: y`
      kind: ImageSetConfiguration
      mirror:
        operators:
        - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.10
        - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.10
          targetTag: full
          full: true
        - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.10
          targetTag: filtered
          packages:
          - name: compliance-operator
          - name: elasticsearch-operator
            minVersion: 5.6.0
          - name: cluster-logging
            maxVersion: 6.0.0
          - name: local-storage-operator
            minVersion: 5.6.0
            maxVersion: 6.0.0
          - name: odf-operator
            defaultChannel: stable-4.14
            channels:
            - name: stable-4.14
          - name: kiali-ossm
            channels:
            - name: stable
            - name: candidate
          - name: ptp-operator
            channels:
            - name: stable
              minVersion: 5.6.0
            - name: candidate
              maxVersion: 6.0.0
            - name: alpha
              minVersion: 5.6.0
              maxVersion: 6.0.0
        - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.10
          targetTag: full-packages
          full: true
          packages:
          - name: compliance-operator
            channels:
            - name: stable
    `,
    expect: (c) => assert.equal(c.mirror.operators?.length, 4),
  },
  {
    name: 'an empty mirror stanza loads as an empty mirror',
    text: y`
      kind: ImageSetConfiguration
      mirror:
    `,
    expect: (c) => assert.deepEqual(c, { kind: 'ImageSetConfiguration', mirror: {} }),
  },
  {
    name: 'versions: leading v, partial and prerelease forms are semantic versions',
    text: y`
      kind: ImageSetConfiguration
      mirror:
        operators:
        - catalog: quay.io/org/catalog:v1
          packages:
          - name: a
            minVersion: v1.2.3
            maxVersion: "2"
          - name: b
            minVersion: "1.2"
            maxVersion: 1.3.0-rc.1+build.5
    `,
    expect: (c) => assert.equal(c.mirror.operators?.[0]?.packages?.[1]?.maxVersion, '1.3.0-rc.1+build.5'),
  },
  {
    name: 'catalogs with different targetCatalog are not duplicates',
    text: y`
      kind: ImageSetConfiguration
      mirror:
        operators:
        - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.18
        - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.18
          targetCatalog: copies/redhat-operator-index
    `,
  },
  {
    name: 'anchors and aliases are followed',
    text: y`
      kind: ImageSetConfiguration
      mirror:
        additionalImages:
        - name: quay.io/a/b:1
          platforms: &arm
          - os: linux
            architecture: arm64
        - name: quay.io/a/c:1
          platforms: *arm
    `,
    expect: (c) => assert.deepEqual(c.mirror.additionalImages?.[1]?.platforms, [{ os: 'linux', architecture: 'arm64' }]),
  },
  {
    name: 'samples are accepted (oc-mirror accepts them and does nothing)',
    text: `${ISC}mirror:\n  samples:\n  - name: ruby\n`,
    expect: (c) => assert.deepEqual(c.mirror.samples, [{ name: 'ruby' }]),
  },
  {
    name: 'blockedImages: a leading (?i) is accepted and matches case-insensitively',
    text: `${ISC}mirror:\n  blockedImages:\n  - name: "(?i)quay.io/ORG/.*-debug"\n`,
    expect: (c) => {
      const pattern = compileBlockedPattern(c.mirror.blockedImages![0]!.name);
      assert.equal(pattern.test('quay.io/org/tool-debug:1'), true);
      assert.equal(pattern.test('QUAY.IO/Org/Tool-DEBUG@sha256:00'), true);
      assert.equal(pattern.test('quay.io/org/tool:1'), false);
    },
  },
  {
    name: 'delete: the documentation example, with the amd64 default',
    delete: true,
    text: y`
      apiVersion: mirror.openshift.io/v2alpha1
      kind: DeleteImageSetConfiguration
      delete:
        platform:
          channels:
            - name: stable-4.13
              minVersion: 4.13.3
              maxVersion: 4.13.3
        operators:
          - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.12
            packages:
            - name: aws-load-balancer-operator
              minVersion: 0.0.1
              maxVersion: 0.0.1
        additionalImages:
          - name: registry.redhat.io/ubi8/ubi@sha256:bce7e9f69fb7d4533447232478fd825811c760288f87a35699f9c8f030f2c1a6
    `,
    expectDelete: (c) => {
      assert.deepEqual(c.delete.platform?.architectures, ['amd64']);
      assert.equal(c.delete.operators?.[0]?.packages?.[0]?.maxVersion, '0.0.1');
    },
  },
  {
    name: 'delete: explicit architectures and platforms are left alone',
    delete: true,
    text: y`
      kind: DeleteImageSetConfiguration
      delete:
        platform:
          platforms:
          - os: linux
            architecture: arm64
          channels:
          - name: stable-4.13
    `,
    expectDelete: (c) => {
      assert.equal(c.delete.platform?.architectures, undefined);
      assert.deepEqual(c.delete.platform?.platforms, [{ os: 'linux', architecture: 'arm64' }]);
    },
  },

  // ---- file-level and kind errors ----------------------------------------------------------
  { name: 'empty file', text: '', error: 'isc.yaml: the file is empty (expected kind: ImageSetConfiguration)' },
  { name: 'comments only', text: '# nothing yet\n', error: 'isc.yaml: the file is empty (expected kind: ImageSetConfiguration)' },
  {
    name: 'a list at the top level',
    text: '- kind: ImageSetConfiguration\n',
    error: 'isc.yaml:1 the top level must be a mapping with kind: ImageSetConfiguration, not a list',
  },
  {
    name: 'YAML syntax error',
    text: y`
      kind: ImageSetConfiguration
      mirror:
        operators:
        - catalog: quay.io/a/b:1
         packages:
          - name: p
    `,
    error: 'isc.yaml:5 invalid YAML: Sequence item without - indicator',
  },
  {
    name: 'YAML duplicate key',
    text: y`
      kind: ImageSetConfiguration
      mirror:
        operators:
        - catalog: quay.io/a/b:1
          catalog: quay.io/a/c:1
    `,
    error: 'isc.yaml:5 invalid YAML: duplicate key "catalog"',
  },
  {
    name: 'two YAML documents in one file',
    text: `${ISC}mirror: {}\n---\n${ISC}mirror: {}\n`,
    error: 'isc.yaml:4 invalid YAML: more than one document (one configuration per file)',
  },
  {
    name: 'an alias to no anchor',
    text: `${ISC}mirror:\n  blockedImages:\n  - name: *pattern\n`,
    error: 'isc.yaml:5 mirror.blockedImages[0].name: alias *pattern refers to no anchor',
  },
  {
    name: 'missing kind',
    text: 'apiVersion: mirror.openshift.io/v2alpha1\nmirror: {}\n',
    error: 'isc.yaml:1 kind: missing (expected ImageSetConfiguration)',
  },
  {
    name: 'wrong kind',
    text: 'apiVersion: mirror.openshift.io/v2alpha1\nkind: ImageSetConfig\nmirror: {}\n',
    error: 'isc.yaml:2 kind: "ImageSetConfig" is not ImageSetConfiguration',
  },
  {
    name: 'a delete configuration given where an ImageSetConfiguration is expected',
    text: 'kind: DeleteImageSetConfiguration\ndelete: {}\n',
    error: 'isc.yaml:1 kind: "DeleteImageSetConfiguration" is not ImageSetConfiguration',
  },
  {
    name: 'missing mirror stanza',
    text: ISC,
    error: 'isc.yaml:1 mirror: missing: ImageSetConfiguration needs a mirror stanza',
  },
  {
    name: 'delete stanza in an ImageSetConfiguration',
    text: `${ISC}mirror: {}\ndelete: {}\n`,
    error: 'isc.yaml:4 delete: not allowed in ImageSetConfiguration',
  },
  {
    name: 'mirror stanza in a DeleteImageSetConfiguration',
    delete: true,
    text: 'kind: DeleteImageSetConfiguration\ndelete: {}\nmirror:\n  additionalImages: []\n',
    error: 'isc.yaml:3 mirror: not allowed in DeleteImageSetConfiguration',
  },
  {
    name: 'missing delete stanza',
    delete: true,
    text: 'kind: DeleteImageSetConfiguration\n',
    error: 'isc.yaml:1 delete: missing: DeleteImageSetConfiguration needs a delete stanza',
  },
  {
    name: 'apiVersion other than v2alpha1 (stricter than oc-mirror)',
    text: 'kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nmirror: {}\n',
    error: 'isc.yaml:2 apiVersion: "mirror.openshift.io/v1alpha2" is not supported (expected mirror.openshift.io/v2alpha1)',
  },

  // ---- structure ------------------------------------------------------------------------
  {
    name: 'unknown field at depth',
    text: y`
      kind: ImageSetConfiguration
      mirror:
        operators:
        - catalog: quay.io/a/catalog:v1
          packages:
          - name: a
          - name: b
            channels:
            - name: stable
              minVerison: 1.0.0
    `,
    error: 'isc.yaml:10 mirror.operators[0].packages[1].channels[0].minVerison: unknown field',
  },
  {
    name: 'misspelt additional image name',
    text: `${ISC}mirror:\n  additionalImages:\n  - nmae: quay.io/a/b:1\n`,
    error: 'isc.yaml:5 mirror.additionalImages[0].nmae: unknown field',
  },
  {
    name: 'v1 storageConfig is an unknown field',
    text: `${ISC}storageConfig:\n  local:\n    path: ./metadata\nmirror: {}\n`,
    error: 'isc.yaml:3 storageConfig: unknown field',
  },
  {
    name: 'blockedImages is not part of a delete configuration',
    delete: true,
    text: 'kind: DeleteImageSetConfiguration\ndelete:\n  blockedImages:\n  - name: x\n',
    error: 'isc.yaml:3 delete.blockedImages: unknown field',
  },
  {
    name: 'a string where a list is expected',
    text: `${ISC}mirror:\n  platform:\n    architectures: amd64\n`,
    error: 'isc.yaml:5 mirror.platform.architectures: expected a list, got the string "amd64"',
  },
  {
    name: 'a mapping where a list is expected',
    text: `${ISC}mirror:\n  operators:\n    catalog: quay.io/a/b:1\n`,
    error: 'isc.yaml:5 mirror.operators: expected a list, got a mapping',
  },
  {
    name: 'an unquoted number where a version string is expected',
    text: `${ISC}mirror:\n  platform:\n    channels:\n    - name: stable-4.10\n      minVersion: 4.10\n`,
    error: 'isc.yaml:7 mirror.platform.channels[0].minVersion: expected a string, got the number 4.10 (write it in quotes: "4.10")',
  },
  {
    name: 'a string where a boolean is expected',
    text: `${ISC}mirror:\n  operators:\n  - catalog: quay.io/a/b:1\n    full: "yes"\n`,
    error: 'isc.yaml:6 mirror.operators[0].full: expected true or false, got the string "yes"',
  },
  {
    name: 'missing required field',
    text: `${ISC}mirror:\n  operators:\n  - packages:\n    - name: a\n`,
    error: 'isc.yaml:5 mirror.operators[0].catalog: missing required field',
  },
  {
    name: 'empty required field',
    text: `${ISC}mirror:\n  blockedImages:\n  - name: ""\n`,
    error: 'isc.yaml:5 mirror.blockedImages[0].name: must not be empty',
  },
  {
    name: 'archiveSize negative',
    text: `${ISC}archiveSize: -2\nmirror: {}\n`,
    error: 'isc.yaml:3 archiveSize: must be a positive number of GiB, got -2 (leave it out, or 0, for the default)',
  },
  {
    name: 'archiveSize not an integer',
    text: `${ISC}archiveSize: 1.5\nmirror: {}\n`,
    error: 'isc.yaml:3 archiveSize: expected an integer, got the number 1.5',
  },

  // ---- values -----------------------------------------------------------------------------
  {
    name: 'package minVersion not semantic',
    text: y`
      kind: ImageSetConfiguration
      mirror:
        operators:
        - catalog: quay.io/a/catalog:v1
          packages:
          - name: a
          - name: b
            minVersion: 4.x
    `,
    error: 'isc.yaml:8 mirror.operators[0].packages[1].minVersion: "4.x" is not a semantic version',
  },
  {
    name: 'channel maxVersion with a leading zero is not semantic',
    text: `${ISC}mirror:\n  operators:\n  - catalog: quay.io/a/b:1\n    packages:\n    - name: p\n      channels:\n      - name: c\n        maxVersion: 1.02.0\n`,
    error: 'isc.yaml:10 mirror.operators[0].packages[0].channels[0].maxVersion: "1.02.0" is not a semantic version',
  },
  {
    name: 'release channel version not semantic (oc-mirror would panic)',
    text: `${ISC}mirror:\n  platform:\n    channels:\n    - name: stable-4.18\n      minVersion: 4.18.1\n      maxVersion: latest\n`,
    error: 'isc.yaml:8 mirror.platform.channels[0].maxVersion: "latest" is not a semantic version',
  },
  {
    name: 'unknown architecture',
    text: `${ISC}mirror:\n  platform:\n    architectures: [amd64, x86_64]\n`,
    error: 'isc.yaml:5 mirror.platform.architectures[1]: "x86_64" is not one of amd64, arm64, ppc64le, s390x, multi',
  },
  {
    name: 'unknown channel type (oc-mirror would silently use ocp)',
    text: `${ISC}mirror:\n  platform:\n    channels:\n    - name: 4-stable\n      type: okd4\n`,
    error: 'isc.yaml:7 mirror.platform.channels[0].type: "okd4" is not ocp or okd',
  },
  {
    name: 'blocked image that is not a regular expression',
    text: `${ISC}mirror:\n  blockedImages:\n  - name: quay.io/a/b\n  - name: "quay.io/(a|b"\n`,
    error: 'isc.yaml:6 mirror.blockedImages[1].name: "quay.io/(a|b" is not a valid regular expression: Unterminated group',
  },
  {
    name: 'blocked image with a Go flag JavaScript lacks',
    text: `${ISC}mirror:\n  blockedImages:\n  - name: "(?U)a+"\n`,
    error: 'isc.yaml:5 mirror.blockedImages[0].name: "(?U)a+" is not a valid regular expression: flag "U" in "(?U)" has no JavaScript equivalent',
  },
  {
    name: 'targetRepo with a tag',
    text: `${ISC}mirror:\n  additionalImages:\n  - name: quay.io/a/b:1\n    targetRepo: mirror/b:2\n`,
    error:
      'isc.yaml:6 mirror.additionalImages[0].targetRepo: "mirror/b:2" is not a valid repository path: it must not contain a tag or digest, and each /-separated component is lower-case letters and digits joined by . _ or -',
  },
  {
    name: 'targetCatalog with upper case',
    text: `${ISC}mirror:\n  operators:\n  - catalog: quay.io/a/b:1\n    targetCatalog: Mirror/Catalog\n`,
    error:
      'isc.yaml:6 mirror.operators[0].targetCatalog: "Mirror/Catalog" is not a valid repository path: it must not contain a tag or digest, and each /-separated component is lower-case letters and digits joined by . _ or -',
  },
  {
    name: 'invalid targetTag',
    text: `${ISC}mirror:\n  operators:\n  - catalog: quay.io/a/b:1\n    targetTag: -latest\n`,
    error: 'isc.yaml:6 mirror.operators[0].targetTag: "-latest" is not a valid tag (up to 128 letters, digits, _ . -, not starting with . or -)',
  },
  {
    name: 'additional image without tag or digest',
    text: y`
      kind: ImageSetConfiguration
      mirror:
        additionalImages:
        - name: quay.io/x/y:1
        - name: quay.io/x/y@sha256:20f695d2a91352d4eaa25107535126727b5945bff38ed36a3e59590f495046f0
        - name: quay.io/x/y
    `,
    error: 'isc.yaml:6 mirror.additionalImages[2].name: "quay.io/x/y" has no tag or digest',
  },
  {
    name: 'additional image from an oci: layout',
    text: `${ISC}mirror:\n  additionalImages:\n  - name: oci:///data/images/tool\n`,
    error: 'isc.yaml:5 mirror.additionalImages[0].name: oci: sources are not supported yet',
  },
  {
    name: 'additional image that does not parse',
    text: `${ISC}mirror:\n  additionalImages:\n  - name: quay.io/Org/tool:1\n`,
    error:
      'isc.yaml:5 mirror.additionalImages[0].name: "quay.io/Org/tool:1" is not a valid image reference: "Org/tool" is not a valid repository path (lower-case letters, digits and . _ - separators)',
  },
  {
    name: 'helm repository url that is not a URL',
    text: `${ISC}mirror:\n  helm:\n    repositories:\n    - name: podinfo\n      url: stefanprodan.github.io/podinfo\n`,
    error: 'isc.yaml:7 mirror.helm.repositories[0].url: "stefanprodan.github.io/podinfo" is not a valid URL',
  },

  // ---- rules across fields ----------------------------------------------------------------
  {
    name: 'duplicate catalog (same reference once normalised)',
    text: y`
      kind: ImageSetConfiguration
      mirror:
        operators:
        - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.18
        - catalog: docker://registry.redhat.io/redhat/redhat-operator-index:v4.18
    `,
    error:
      'isc.yaml:5 mirror.operators[1].catalog: duplicate catalog "registry.redhat.io/redhat/redhat-operator-index:v4.18" (same catalog, targetCatalog and targetTag as mirror.operators[0])',
  },
  {
    name: 'duplicate catalog once targetTag is applied',
    text: y`
      kind: ImageSetConfiguration
      mirror:
        operators:
        - catalog: quay.io/a/catalog:v1
          targetTag: stable
        - catalog: quay.io/a/catalog:v2
          targetTag: stable
    `,
    error: 'isc.yaml:6 mirror.operators[1].catalog: duplicate catalog "quay.io/a/catalog:stable" (same catalog, targetCatalog and targetTag as mirror.operators[0])',
  },
  {
    name: 'duplicate package',
    text: `${ISC}mirror:\n  operators:\n  - catalog: quay.io/a/b:1\n    packages:\n    - name: p\n    - name: q\n    - name: p\n`,
    error: 'isc.yaml:9 mirror.operators[0].packages[2].name: duplicate package "p" (first at mirror.operators[0].packages[0])',
  },
  {
    name: 'duplicate channel in a package',
    text: `${ISC}mirror:\n  operators:\n  - catalog: quay.io/a/b:1\n    packages:\n    - name: p\n      channels:\n      - name: stable\n      - name: stable\n`,
    error: 'isc.yaml:10 mirror.operators[0].packages[0].channels[1].name: duplicate channel "stable" in package "p" (first at mirror.operators[0].packages[0].channels[0])',
  },
  {
    name: 'scenario 14: package range mixed with channel range',
    text: y`
      kind: ImageSetConfiguration
      mirror:
        operators:
        - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.10
          packages:
          - name: compliance-operator
            minVersion: 5.6.0
            channels:
            - name: stable
              maxVersion: 6.0.0
    `,
    error:
      'isc.yaml:10 mirror.operators[0].packages[0].channels[0].maxVersion: package "compliance-operator" has its own minVersion/maxVersion: filtering by package range and by channel range together is not allowed',
  },
  {
    name: 'scenario 15: full catalog with a package range',
    text: y`
      kind: ImageSetConfiguration
      mirror:
        operators:
        - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.10
          full: true
          packages:
          - name: compliance-operator
            maxVersion: 6.0.0
    `,
    error:
      'isc.yaml:8 mirror.operators[0].packages[0].maxVersion: package "compliance-operator": a version range cannot be used with full: true on the catalog (full mirrors every version)',
  },
  {
    name: 'scenario 16: full catalog with a channel range',
    text: y`
      kind: ImageSetConfiguration
      mirror:
        operators:
        - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.10
          full: true
          packages:
          - name: compliance-operator
            channels:
            - name: stable
              minVersion: 5.6.0
    `,
    error:
      'isc.yaml:10 mirror.operators[0].packages[0].channels[0].minVersion: package "compliance-operator" channel "stable": a version range cannot be used with full: true on the catalog (full mirrors every version)',
  },
  {
    name: 'inverted package range',
    text: `${ISC}mirror:\n  operators:\n  - catalog: quay.io/a/b:1\n    packages:\n    - name: p\n      minVersion: 2.0.0\n      maxVersion: 1.9.9\n`,
    error: 'isc.yaml:8 mirror.operators[0].packages[0].minVersion: "2.0.0" is greater than maxVersion "1.9.9": the range selects nothing',
  },
  {
    name: 'defaultChannel not among the listed channels',
    text: `${ISC}mirror:\n  operators:\n  - catalog: quay.io/a/b:1\n    packages:\n    - name: p\n      defaultChannel: stable\n      channels:\n      - name: fast\n`,
    error: 'isc.yaml:8 mirror.operators[0].packages[0].defaultChannel: "stable" is not one of the channels listed for package "p"',
  },
  {
    name: 'duplicate release channel',
    text: `${ISC}mirror:\n  platform:\n    channels:\n    - name: stable-4.18\n    - name: eus-4.18\n    - name: stable-4.18\n`,
    error: 'isc.yaml:8 mirror.platform.channels[2].name: duplicate release channel "stable-4.18" (first at mirror.platform.channels[0])',
  },
  {
    name: 'platforms together with architectures',
    text: `${ISC}mirror:\n  platform:\n    architectures: [amd64]\n    platforms:\n    - os: linux\n      architecture: arm64\n`,
    error:
      'isc.yaml:6 mirror.platform.platforms: cannot be used together with mirror.platform.architectures: platforms selects os/architecture pairs of the multi-arch payload (sparse copy), architectures (deprecated) selects whole per-architecture payloads; keep one',
  },
  {
    name: 'delete: cross-field rules apply under delete too',
    delete: true,
    text: 'kind: DeleteImageSetConfiguration\ndelete:\n  operators:\n  - catalog: quay.io/a/b:1\n  - catalog: quay.io/a/b:1\n',
    error: 'isc.yaml:5 delete.operators[1].catalog: duplicate catalog "quay.io/a/b:1" (same catalog, targetCatalog and targetTag as delete.operators[0])',
  },
];

describe('configuration loading', () => {
  for (const c of cases) {
    test(c.name, () => {
      const parse = () =>
        c.delete ? parseDeleteImageSetConfiguration(c.text, 'isc.yaml') : parseImageSetConfiguration(c.text, 'isc.yaml');
      if (c.error === undefined) {
        if (c.delete) c.expectDelete?.(parseDeleteImageSetConfiguration(c.text, 'isc.yaml'));
        else c.expect?.(parseImageSetConfiguration(c.text, 'isc.yaml'));
        return;
      }
      assert.throws(parse, (err: unknown) => {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
        assert.equal(err.message, c.error);
        return true;
      });
    });
  }

  test('every part of the schema (fixture) loads as plain data', () => {
    const file = join(FIXTURES, 'isc-full.yaml');
    const config = loadImageSetConfiguration(file);
    assert.deepEqual(config, {
      kind: 'ImageSetConfiguration',
      apiVersion: 'mirror.openshift.io/v2alpha1',
      archiveSize: 4,
      mirror: {
        platform: {
          graph: true,
          release: 'quay.io/openshift-release-dev/ocp-release:4.18.1-x86_64',
          kubeVirtContainer: true,
          platforms: [
            { os: 'linux', architecture: 'amd64' },
            { os: 'linux', architecture: 'arm64' },
          ],
          channels: [
            { name: 'stable-4.18', type: 'ocp', minVersion: '4.18.1', maxVersion: '4.18.5', shortestPath: true },
            { name: '4-stable', type: 'okd', full: true },
          ],
        },
        operators: [
          {
            catalog: 'registry.redhat.io/redhat/redhat-operator-index:v4.18',
            targetCatalog: 'my-namespace/redhat-operators',
            targetTag: 'v4.18-mirror',
            targetCatalogSourceTemplate: '/home/user/catalog-source-template.yaml',
            skipDependencies: true,
            platforms: [{ os: 'linux', architecture: 'amd64' }],
            packages: [
              {
                name: 'aws-load-balancer-operator',
                defaultChannel: 'stable-v1',
                channels: [{ name: 'stable-v1', minVersion: '1.1.0', maxVersion: 'v1.2' }],
              },
              { name: '3scale-operator', minVersion: '0.11.0' },
            ],
          },
          { catalog: 'oci:///home/user/catalogs/certified', full: true },
        ],
        additionalImages: [
          {
            name: 'registry.redhat.io/ubi8/ubi:latest',
            targetRepo: 'base/ubi8',
            targetTag: 'mirrored',
            platforms: [{ os: 'linux', architecture: 's390x' }],
          },
          { name: 'registry.redhat.io/ubi9/ubi@sha256:20f695d2a91352d4eaa25107535126727b5945bff38ed36a3e59590f495046f0' },
        ],
        helm: {
          repositories: [
            {
              name: 'podinfo',
              url: 'https://stefanprodan.github.io/podinfo',
              charts: [
                {
                  name: 'podinfo',
                  version: '5.0.0',
                  imagePaths: ['{.spec.template.spec.custom[*].image}'],
                  platforms: [{ os: 'linux', architecture: 'arm64' }],
                },
              ],
            },
          ],
          local: [{ name: 'podinfo', path: '/test/podinfo-5.0.0.tar.gz', imagePaths: [] }],
        },
        blockedImages: [{ name: '(?i).*/BLOCKED-image.*' }, { name: 'registry\\.example\\.com/unwanted/.*' }],
        samples: [{ name: 'ruby' }],
      },
    });
  });

  test('the documentation delete example loads from a file', () => {
    const config = loadDeleteImageSetConfiguration(join(FIXTURES, 'disc-docs.yaml'));
    assert.equal(config.kind, 'DeleteImageSetConfiguration');
    assert.deepEqual(config.delete.platform?.architectures, ['amd64']);
    assert.equal(config.delete.additionalImages?.length, 2);
  });

  test('errors from a file name the file as given', () => {
    const file = join(FIXTURES, 'disc-docs.yaml');
    assert.throws(() => loadImageSetConfiguration(file), {
      name: 'ConfigError',
      message: `${file}:2 kind: "DeleteImageSetConfiguration" is not ImageSetConfiguration`,
    });
  });

  test('a missing file is a ConfigError naming the path', () => {
    const file = join(FIXTURES, 'no-such-isc.yaml');
    assert.throws(() => loadImageSetConfiguration(file), {
      name: 'ConfigError',
      message: `${file}: cannot read the configuration file: no such file`,
    });
    assert.throws(() => loadDeleteImageSetConfiguration(FIXTURES), {
      name: 'ConfigError',
      message: `${FIXTURES}: cannot read the configuration file: it is a directory`,
    });
  });
});
