import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import { parse as parseYaml } from 'yaml';
import { DigestMismatchError } from '../../src/errors.js';
import type { Descriptor, RawManifest } from '../../src/image/manifest.js';
import type { ImageSource } from '../../src/image/transport.js';
import { renderMirrorSets } from '../../src/outputs/idms-itms.js';
import { buildPlan } from '../../src/plan/planner.js';
import type { CollectedImage } from '../../src/plan/types.js';
import { renderSignatureConfigMap, renderUpdateService } from '../../src/release/cluster-resources.js';
import { readImageFiles } from '../../src/release/image-files.js';
import { decodePayloadRecord, encodePayloadRecord } from '../../src/release/payload.js';
import { RED_HAT_RELEASE_KEYS } from '../../src/release/redhat-keys.js';
import { kubeVirtImages, parseImageReferences } from '../../src/release/release-manifests.js';
import { signatureUrl, verifyReleaseSignature } from '../../src/release/signatures.js';
import { generateKey, signRelease, tarOf } from '../support/release-world.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** An in-memory image: blobs and manifests by digest; counts the blobs read. */
class MemorySource implements ImageSource {
  readonly name = 'memory';
  readonly blobs = new Map<string, Buffer>();
  readonly manifests = new Map<string, RawManifest>();
  readonly reads: string[] = [];

  async getManifest(reference: string): Promise<RawManifest> {
    const m = this.manifests.get(reference);
    if (!m) throw new Error(`no manifest ${reference}`);
    return m;
  }

  async getBlob(desc: Descriptor): Promise<Readable> {
    this.reads.push(desc.digest);
    const b = this.blobs.get(desc.digest);
    if (!b) throw new Error(`no blob ${desc.digest}`);
    return Readable.from([b.subarray(0, 700), b.subarray(700)]);
  }

  /** an image of gzip tar layers (oldest first); returns its manifest */
  image(layers: Buffer[], corrupt?: number): RawManifest {
    const descs = layers.map((tar, i) => {
      const gz = gzipSync(tar);
      const digest = sha(gz);
      this.blobs.set(digest, i === corrupt ? Buffer.concat([gz.subarray(0, gz.length - 1), Buffer.from([gz.at(-1)! ^ 1])]) : gz);
      return { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: gz.length };
    });
    const config = Buffer.from('{"architecture":"amd64"}');
    this.blobs.set(sha(config), config);
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length }, layers: descs }));
    const m = { bytes, mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(bytes) };
    this.manifests.set(m.digest, m);
    return m;
  }
}

const REFS = 'release-manifests/image-references';
const META = 'release-manifests/release-metadata';
const file = (name: string, text: string) => ({ name, data: Buffer.from(text) });

describe('readImageFiles', () => {
  it('takes the newest layer that has a file and never opens older layers once everything is found', async () => {
    const src = new MemorySource();
    const oldest = tarOf([file('etc/big', 'x'.repeat(5000)), file(REFS, 'old')]);
    const newest = tarOf([file('./release-manifests/other', 'o'), file(`/${REFS}`, 'new'), file(META, 'meta')]);
    const m = src.image([oldest, newest]);
    const { files } = await readImageFiles(src, m, [REFS, META], 'payload');
    assert.deepEqual(Object.fromEntries([...files].map(([k, v]) => [k, v.toString()])), { [REFS]: 'new', [META]: 'meta' });
    assert.equal(src.reads.length, 1, 'only the newest layer is read');
  });

  it('honours whiteouts: a deleted file and an opaque directory hide what older layers hold', async () => {
    const src = new MemorySource();
    const base = tarOf([file(REFS, 'old'), file(META, 'old meta'), file('other/keep', 'k')]);
    const deletes = tarOf([file('release-manifests/.wh.image-references', '')]);
    const opaque = tarOf([file('other/.wh..wh..opq', ''), file('other/new', 'n')]);
    const m = src.image([base, deletes, opaque]);
    const { files } = await readImageFiles(src, m, [REFS, META, 'other/keep', 'other/new'], 'payload');
    assert.deepEqual(Object.fromEntries([...files].map(([k, v]) => [k, v.toString()])), { [META]: 'old meta', 'other/new': 'n' });
  });

  it('reads one platform of an index', async () => {
    const src = new MemorySource();
    const arm = src.image([tarOf([file(REFS, 'arm')])]);
    const amd = src.image([tarOf([file(REFS, 'amd')])]);
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { mediaType: arm.mediaType, digest: arm.digest, size: arm.bytes.length, platform: { os: 'linux', architecture: 'arm64' } },
          { mediaType: amd.mediaType, digest: amd.digest, size: amd.bytes.length, platform: { os: 'linux', architecture: 'amd64' } },
        ],
      }),
    );
    const index = { bytes, mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha(bytes) };
    const { files, image } = await readImageFiles(src, index, [REFS], 'payload');
    assert.equal(files.get(REFS)?.toString(), 'amd');
    assert.equal(image.digest, amd.digest);
  });

  it('refuses a layer whose bytes do not match its digest, even after the file was found', async () => {
    const src = new MemorySource();
    const m = src.image([tarOf([file(REFS, 'refs'), file('padding', 'p'.repeat(20_000))])], 0);
    await assert.rejects(readImageFiles(src, m, [REFS], 'payload'), DigestMismatchError);
  });
});

describe('release manifests', () => {
  it('lists image-references components and refuses malformed ones with the tag at fault', () => {
    const doc = { kind: 'ImageStream', metadata: { name: '4.18.1' }, spec: { tags: [{ name: 'etcd', from: { kind: 'DockerImage', name: 'quay.io/x/art@sha256:' + 'a'.repeat(64) } }] } };
    assert.deepEqual(parseImageReferences(Buffer.from(JSON.stringify(doc)), 'refs'), {
      version: '4.18.1',
      components: [{ name: 'etcd', image: `quay.io/x/art@sha256:${'a'.repeat(64)}` }],
    });
    const bad = { ...doc, spec: { tags: [{ name: 'cli', from: {} }] } };
    assert.throws(() => parseImageReferences(Buffer.from(JSON.stringify(bad)), 'refs'), /refs: spec.tags\[0\] \(cli\) has no from.name/);
  });

  it('finds the KubeVirt disk of each architecture asked', () => {
    const stream = JSON.stringify({
      architectures: {
        x86_64: { images: { kubevirt: { 'digest-ref': `quay.io/x/art@sha256:${'b'.repeat(64)}` } } },
        s390x: { images: {} },
      },
    });
    const yaml = `kind: ConfigMap\ndata:\n  stream: '${stream}'\n`;
    assert.deepEqual(kubeVirtImages(Buffer.from(yaml), ['x86_64', 's390x'], 'boot'), [{ architecture: 'x86_64', image: `quay.io/x/art@sha256:${'b'.repeat(64)}` }]);
  });

  it('round-trips a payload record and refuses a tampered one', () => {
    const content = { version: '4.18.1', architecture: 'amd64', components: [{ name: 'etcd', image: `quay.io/x/art@sha256:${'a'.repeat(64)}` }], kubeVirt: [] };
    assert.deepEqual(decodePayloadRecord(Buffer.from(encodePayloadRecord(content)), 'rec'), content);
    assert.throws(() => decodePayloadRecord(Buffer.from('{"architecture":"amd64","components":[{"name":"x"}],"kubeVirt":[]}'), 'rec'), /rec: components has a malformed entry/);
  });
});

describe('release signatures', () => {
  const digest = `sha256:${'c'.repeat(64)}`;

  it('uses the store layout <base>/sha256=<hex>/signature-1', () => {
    assert.equal(signatureUrl('https://mirror.example/sigs/', digest), `https://mirror.example/sigs/sha256=${'c'.repeat(64)}/signature-1`);
  });

  it('accepts a signature by a trusted key for the payload digest and returns its identity', async () => {
    const { privateKey, publicArmored } = await generateKey('signer');
    const keys = await openpgp.readKeys({ armoredKeys: publicArmored });
    const sig = await signRelease(privateKey, digest, 'quay.io/openshift-release-dev/ocp-release:4.18.1-x86_64');
    assert.equal(await verifyReleaseSignature(sig, digest, keys, 'release 4.18.1'), 'quay.io/openshift-release-dev/ocp-release:4.18.1-x86_64');
  });

  it('refuses an untrusted signer and a signature of another digest, naming the release', async () => {
    const signer = await generateKey('signer');
    const other = await generateKey('other');
    const keys = await openpgp.readKeys({ armoredKeys: signer.publicArmored });
    const byOther = await signRelease(other.privateKey, digest, 'quay.io/x:4.18.1-x86_64');
    await assert.rejects(verifyReleaseSignature(byOther, digest, keys, 'release 4.18.1'), /^ReleaseSignatureError: release 4.18.1: the release signature does not verify/);
    const forOther = await signRelease(signer.privateKey, `sha256:${'d'.repeat(64)}`, 'quay.io/x:4.18.1-x86_64');
    await assert.rejects(verifyReleaseSignature(forOther, digest, keys, 'release 4.18.1'), /release 4.18.1: the release signature is for sha256:d+, not for the payload sha256:c+/);
  });

  it('embeds Red Hat release key 2 and beta key 2', async () => {
    const keys = await openpgp.readKeys({ armoredKeys: RED_HAT_RELEASE_KEYS });
    assert.deepEqual(
      keys.map((k) => k.getFingerprint()),
      ['567e347ad0044ade55ba8a5f199e2f91fd431d51', 'b08b659ee86af623bc90e8db938a80caf21541eb'],
    );
  });
});

describe('release cluster resources', () => {
  const opts = { createdAt: '2026-01-01T10:00:00Z', version: 'v9' };

  it('writes the signature ConfigMap as JSON and YAML with one numbered key per payload', () => {
    const a = `sha256:${'a'.repeat(64)}`;
    const b = `sha256:${'b'.repeat(64)}`;
    const { json, yaml } = renderSignatureConfigMap(
      [
        { digest: b, bytes: Buffer.from('sig-b') },
        { digest: a, bytes: Buffer.from('sig-a') },
        { digest: b, bytes: Buffer.from('sig-b') },
      ],
      opts,
    );
    const binaryData = { [`sha256-${'a'.repeat(64)}-2`]: Buffer.from('sig-a').toString('base64'), [`sha256-${'b'.repeat(64)}-1`]: Buffer.from('sig-b').toString('base64') };
    const metadata = {
      name: 'mirrored-release-signatures',
      namespace: 'openshift-config-managed',
      labels: { 'release.openshift.io/verification-signatures': '' },
      annotations: { createdAt: '2026-01-01T10:00:00Z', createdBy: 'oc-mirror v2', 'oc-mirror_version': 'v9' },
    };
    assert.equal(json, JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata, binaryData }));
    assert.deepEqual(parseYaml(yaml), { apiVersion: 'v1', binaryData, kind: 'ConfigMap', metadata });
    assert.match(yaml, /^apiVersion: v1\nbinaryData:\n/);
    assert.match(yaml, /createdAt: "2026-01-01T10:00:00Z"/);
  });

  it('writes the UpdateService', () => {
    assert.equal(
      renderUpdateService('mirror.example:5000/ocp/openshift/graph-image:latest', 'mirror.example:5000/ocp/openshift/release-images', opts),
      [
        'apiVersion: updateservice.operator.openshift.io/v1',
        'kind: UpdateService',
        'metadata:',
        '  annotations:',
        '    createdAt: "2026-01-01T10:00:00Z"',
        '    createdBy: oc-mirror v2',
        '    oc-mirror_version: v9',
        '  name: update-service-oc-mirror',
        '  namespace: openshift-update-service',
        'spec:',
        '  graphDataImage: mirror.example:5000/ocp/openshift/graph-image:latest',
        '  releases: mirror.example:5000/ocp/openshift/release-images',
        '  replicas: 2',
        '',
      ].join('\n'),
    );
  });
});

describe('release IDMS scopes', () => {
  it('map component and payload repositories one by one, even under a destination named like the release namespace (ref §15 item 16)', () => {
    const digest = (c: string) => `sha256:${c.repeat(64)}`;
    const images: CollectedImage[] = [
      { source: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${digest('a')}`, kind: 'ocpReleaseContent', targetRepo: 'openshift/release', targetTag: '4.18.1-x86_64-etcd' },
      { source: `quay.io/openshift-release-dev/ocp-release:4.18.1-x86_64@${digest('b')}`, kind: 'ocpRelease', targetRepo: 'openshift/release-images', targetTag: '4.18.1-x86_64' },
      { source: 'quay.io/openshift-release-dev/other:v1', kind: 'generic' },
    ];
    const { plan } = buildPlan(images, 'docker://mirror.example:5000/openshift-release-dev', { maxNestedPaths: 0, blocked: [] });
    const sets = renderMirrorSets(plan.tasks, { maxNestedPaths: 0, createdAt: '2026-01-01T10:00:00Z', version: 'v' });
    const release = parseYaml(sets.idms!.split('---\n').find((d) => d.includes('idms-release-0'))!);
    assert.deepEqual(release.spec.imageDigestMirrors, [
      { mirrors: ['mirror.example:5000/openshift-release-dev/openshift/release-images'], source: 'quay.io/openshift-release-dev/ocp-release' },
      { mirrors: ['mirror.example:5000/openshift-release-dev/openshift/release'], source: 'quay.io/openshift-release-dev/ocp-v4.0-art-dev' },
    ]);
    assert.ok(!sets.itms!.includes('source: quay.io/openshift-release-dev\n'), 'no namespace entry that would send release pulls to the wrong repositories');
  });
});
