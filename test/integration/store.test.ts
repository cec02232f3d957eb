import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { LocalStore, STORE_TEMP_DIR } from '../../src/store/store.js';
import { tempDir } from '../support/cleanup.js';
import { pushArtifact, pushImage, type PushedImage } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { assertSameImage } from '../support/skopeo.js';
import {
  assertAllCopied,
  blobGets,
  checkStoreIntegrity,
  copyTask,
  copyWithEngine,
  RegistryToStore,
  startCopyChild,
  StoreToStore,
} from '../support/store-world.js';
import { integrationSuite } from '../support/tools.js';

const STORE_HOST = 'localhost:55000';
const MB = 1024 * 1024;

/** Where an image lands in the store: `localhost:55000/mirror/<repo>:<tag>` (or `@digest`). */
function inStore(image: PushedImage, byDigest = false): string {
  return byDigest ? `${STORE_HOST}/mirror/${image.repo}@${image.digest}` : `${STORE_HOST}/mirror/${image.repo}:${image.tag}`;
}

/** The same image as a registry serving the store directory names it. */
function served(reg: TestRegistry, storeRef: string): string {
  return storeRef.replace(STORE_HOST, reg.host);
}

async function assertSound(root: string): Promise<Set<string>> {
  const { problems, blobs } = await checkStoreIntegrity(root);
  assert.deepEqual(problems, [], `store ${root} is not sound`);
  return blobs;
}

/** Serves the store with docker-registry (read-only) and compares every image with skopeo. */
async function assertServedAsSource(root: string, src: TestRegistry, pairs: [PushedImage, string][], t: { after(fn: () => unknown): void }) {
  const reg = await startRegistry({ rootDir: root, readOnly: true }, t);
  for (const [image, storeRef] of pairs) {
    await assertSameImage(image.reference, served(reg, storeRef), { src, dest: reg });
  }
  await reg.stop();
}

describe('local store with real peers', integrationSuite(), () => {
  let src: TestRegistry;
  const images: Record<string, PushedImage> = {};

  before(async () => {
    src = await startRegistry();
    const base = [{ size: 300_000, seed: 'store-base-layer' }];
    images.ociSingle = await pushImage(src, 'apps/oci-single', 'v1', { layers: [...base, { size: 50_000 }] });
    images.dockerSingle = await pushImage(src, 'apps/docker-single', '1.0', { format: 'docker', layers: [...base, { size: 70_000 }] });
    images.ociIndex = await pushImage(src, 'multi/oci-index', 'v2', {
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ],
      layers: [...base, { size: 40_000 }],
    });
    images.dockerList = await pushImage(src, 'multi/docker-list', 'latest', {
      format: 'docker',
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'ppc64le' },
      ],
      layers: [...base, { size: 30_000 }],
    });
    images.pinned = await pushImage(src, 'pinned/tool', 'moving', { layers: [{ size: 20_000 }] });
    images.signature = await pushArtifact(src, 'apps/oci-single', { signs: images.ociSingle.digest });
  });
  after(async () => {
    await src?.stop();
  });

  test('images copied into the store by the copy engine are served by docker-registry exactly as at the source', async (t) => {
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root, STORE_HOST);
    const i = images as Required<typeof images>;
    const pairs: [PushedImage, string][] = [
      [i.ociSingle, inStore(i.ociSingle)],
      [i.dockerSingle, inStore(i.dockerSingle)],
      [i.ociIndex, inStore(i.ociIndex)],
      [i.dockerList, inStore(i.dockerList)],
      [i.signature, inStore(i.signature)],
    ];
    const tasks = [
      ...pairs.map(([image, dest]) => copyTask(image.reference, dest)),
      copyTask(i.pinned.digestReference, inStore(i.pinned, true)),
    ];
    const endpoints = new RegistryToStore(store);
    t.after(() => endpoints.close());
    const outcomes = await copyWithEngine(endpoints, tasks);
    assertAllCopied(outcomes);

    const blobs = await assertSound(root);
    const contentOf = (img: PushedImage) => [img.digest, ...(img.children ?? []).map((c) => c.digest), ...img.blobs.map((b) => b.digest)];
    const expected = new Set(Object.values(i).flatMap(contentOf));
    assert.deepEqual([...blobs].sort(), [...expected].sort(), 'the store holds exactly the images’ manifests and blobs');
    assert.deepEqual(await store.listRepositories(), [
      'mirror/apps/docker-single',
      'mirror/apps/oci-single',
      'mirror/multi/docker-list',
      'mirror/multi/oci-index',
      'mirror/pinned/tool',
    ]);
    assert.deepEqual(await store.listTags('mirror/apps/oci-single'), [i.signature.tag!, 'v1'].sort());
    assert.deepEqual(await store.listTags('mirror/pinned/tool'), [], 'a digest destination gets no tag');

    await assertServedAsSource(root, src, [...pairs, [i.pinned, inStore(i.pinned, true)]], t);

    // a second run finds everything in place
    const again = await copyWithEngine(endpoints, tasks);
    assertAllCopied(again);
    assert.ok(again.every((o) => o.ok && o.result.alreadyPresent), 'nothing copied twice');
  });

  test('a store that docker-registry wrote is read by the store: copied out of it, images stay identical', async (t) => {
    // the source registry's own storage directory, read with LocalStore
    const registryWritten = await LocalStore.open(src.rootDir, STORE_HOST);
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root, STORE_HOST);
    const i = images as Required<typeof images>;
    const pairs: [PushedImage, string][] = [i.ociIndex, i.dockerList, i.dockerSingle].map((img) => [img, inStore(img)]);
    const outcomes = await copyWithEngine(
      new StoreToStore(registryWritten, store),
      pairs.map(([img, dest]) => copyTask(`${STORE_HOST}/${img.repo}:${img.tag}`, dest)),
    );
    assertAllCopied(outcomes);
    await assertSound(root);
    await assertServedAsSource(root, src, pairs, t);
  });

  test('a copy SIGKILLed mid-blob leaves a sound store, and the next run downloads only what was unfinished', async (t) => {
    const big = await pushImage(src, 'big/app', 'v1', {
      layers: [
        { size: 40 * MB, seed: 'store-crash-0' },
        { size: 40 * MB, seed: 'store-crash-1' },
        { size: 40 * MB, seed: 'store-crash-2' },
      ],
    });
    const root = tempDir(t, 'store');
    const store = await LocalStore.open(root, STORE_HOST);
    const dest = `${STORE_HOST}/mirror/big/app:v1`;
    const layers = big.layers!;
    const tempDirPath = join(root, STORE_TEMP_DIR);

    // one layer at a time, so that the kill lands while a layer is being written
    const { child, done } = startCopyChild({ storeRoot: root, storeHost: STORE_HOST, tasks: [copyTask(big.reference, dest)], parallelLayers: 1 });
    let sawTemp = false;
    const deadline = Date.now() + 60_000;
    while (!layers.some((l) => existsSync(store.blobPath(l.digest)))) {
      if (Date.now() > deadline || child.exitCode !== null) assert.fail(`the child never stored a layer:\n${(await done).stderr}`);
      sawTemp ||= existsSync(tempDirPath) && readdirSync(tempDirPath).length > 0;
      await sleep(2);
    }
    await sleep(Math.floor(Math.random() * 30));
    child.kill('SIGKILL');
    const killed = await done;
    assert.equal(killed.signal, 'SIGKILL', `the child finished before it was killed:\n${killed.stdout}${killed.stderr}`);
    assert.ok(sawTemp, 'the blob was written through a temp file');

    const blobs = await assertSound(root);
    const finished = layers.filter((l) => blobs.has(l.digest));
    assert.ok(finished.length >= 1 && finished.length < layers.length, `layers stored before the kill: ${finished.length}`);
    assert.equal(await store.repository('mirror/big/app').manifestDigest('v1'), undefined, 'no tag before its manifest and blobs');
    assert.deepEqual(await store.listTags('mirror/big/app'), []);

    const logFrom = src.logs().length;
    const endpoints = new RegistryToStore(store);
    t.after(() => endpoints.close());
    assertAllCopied(await copyWithEngine(endpoints, [copyTask(big.reference, dest)], { parallelLayers: 1 }));
    const log = src.logs().slice(logFrom);
    for (const l of layers) {
      const expected = finished.includes(l) ? 0 : 1;
      assert.equal(blobGets(log, 'big/app', l.digest), expected, `GETs of ${l.digest} on the second run (stored before the kill: ${expected === 0})`);
    }
    await assertSound(root);
    assert.ok((await store.removeTemporaries(0)) >= 0);
    assert.deepEqual(readdirSync(tempDirPath), [], 'leftovers of the killed run are removable');
    await assertServedAsSource(root, src, [[big, dest]], t);
  });

  test('two processes copying overlapping images into one store at once both succeed and leave it sound', async (t) => {
    const shared = [{ size: 8 * MB, seed: 'store-race-shared' }];
    const race = {
      a: await pushImage(src, 'race/a', 'v1', { layers: [...shared, { size: 4 * MB }] }),
      b: await pushImage(src, 'race/b', 'v1', { format: 'docker', layers: [...shared, { size: 4 * MB }] }),
      c: await pushImage(src, 'race/c', 'v1', {
        platforms: [
          { os: 'linux', architecture: 'amd64' },
          { os: 'linux', architecture: 'arm64' },
        ],
        layers: [...shared, { size: 2 * MB }],
      }),
    };
    const root = tempDir(t, 'store');
    const task = (img: PushedImage) => copyTask(img.reference, inStore(img));
    const i = images as Required<typeof images>;
    const run = (tasks: ReturnType<typeof copyTask>[]) =>
      startCopyChild({ storeRoot: root, storeHost: STORE_HOST, tasks, parallelImages: 4, parallelLayers: 4 });
    const first = run([task(race.a), task(race.b), task(race.c), task(i.ociSingle)]);
    const second = run([task(race.c), task(race.b), task(race.a), task(i.dockerSingle)]);
    const [r1, r2] = await Promise.all([first.done, second.done]);
    assert.equal(r1.code, 0, `first copy: ${r1.stdout}${r1.stderr}`);
    assert.equal(r2.code, 0, `second copy: ${r2.stdout}${r2.stderr}`);
    await assertSound(root);
    assert.deepEqual(readdirSync(join(root, STORE_TEMP_DIR)), [], 'no temp files left');
    const all = [race.a, race.b, race.c, i.ociSingle, i.dockerSingle];
    await assertServedAsSource(root, src, all.map((img) => [img, inStore(img)]), t);
  });
});
