/**
 * OpenShift release signatures (ref §8.5): an OpenPGP-signed "atomic container signature" JSON per
 * payload digest, fetched from the signature store, verified against the release keys, and kept
 * under `working-dir/signatures/` so that disk to mirror (and a later run) need no network. The
 * signature's `docker-manifest-digest` must be the payload's digest: a valid signature of another
 * image is a bad signature.
 */
import { readFile } from 'node:fs/promises';
import * as openpgp from 'openpgp';
import type { MetadataFiles } from '../collect/types.js';
import { errorMessage, OcMirrorError } from '../errors.js';
import { HttpError, redact, type HttpClient } from '../http/client.js';
import { parseReference } from '../image/reference.js';
import { RED_HAT_RELEASE_KEYS } from './redhat-keys.js';

export const DEFAULT_SIGNATURE_URL = 'https://mirror.openshift.com/pub/openshift-v4/signatures/openshift/release';
/** under working-dir: `<releaseTag>-sha256-<hex>`, oc-mirror's names */
export const SIGNATURES_DIR = 'signatures';
/** A signature is a few hundred bytes. */
const MAX_SIGNATURE_BYTES = 1024 * 1024;

/** A release signature that is missing, unreadable or does not vouch for the payload. */
export class ReleaseSignatureError extends OcMirrorError {
  override name = 'ReleaseSignatureError';
}

export interface VerifiedSignature {
  /** the signature file as stored and served (binary OpenPGP message) */
  bytes: Buffer;
  /** `critical.identity.docker-reference`, e.g. `quay.io/openshift-release-dev/ocp-release:4.18.1-x86_64` */
  identity: string;
}

/** `<base>/sha256=<hex>/signature-1` */
export function signatureUrl(base: string, digest: string): string {
  return `${base.replace(/\/+$/, '')}/${digest.replace(':', '=')}/signature-1`;
}

/** The metadata file name of a payload's signature. */
export function signatureFileName(releaseTag: string, digest: string): string {
  return `${releaseTag}-${digest.replace(':', '-')}`;
}

/**
 * The verification keys: the file named by `OCP_SIGNATURE_VERIFICATION_PK` (armored or binary),
 * else Red Hat's release keys.
 */
export async function loadVerificationKeys(env: NodeJS.ProcessEnv): Promise<openpgp.PublicKey[]> {
  const file = env.OCP_SIGNATURE_VERIFICATION_PK;
  if (!file) return openpgp.readKeys({ armoredKeys: RED_HAT_RELEASE_KEYS });
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new ReleaseSignatureError(`OCP_SIGNATURE_VERIFICATION_PK: cannot read ${file}: ${errorMessage(err)}`);
  }
  try {
    const text = bytes.toString('utf8');
    const keys = text.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')
      ? await openpgp.readKeys({ armoredKeys: text })
      : await openpgp.readKeys({ binaryKeys: bytes });
    return keys.map((k) => k.toPublic());
  } catch (err) {
    throw new ReleaseSignatureError(`OCP_SIGNATURE_VERIFICATION_PK: ${file} is not an OpenPGP public key: ${errorMessage(err)}`);
  }
}

/**
 * Checks a signature file: signed by one of `keys`, an atomic container signature, for `digest`.
 * Returns the signed identity. `what` names the release in errors.
 */
export async function verifyReleaseSignature(bytes: Buffer, digest: string, keys: openpgp.PublicKey[], what: string): Promise<string> {
  let content: Uint8Array;
  try {
    const text = bytes.subarray(0, 64).toString('latin1');
    const message = text.startsWith('-----BEGIN PGP')
      ? await openpgp.readMessage({ armoredMessage: bytes.toString('utf8') })
      : await openpgp.readMessage({ binaryMessage: bytes });
    const result = await openpgp.verify({ message, verificationKeys: keys, expectSigned: true, format: 'binary' });
    content = result.data as Uint8Array;
  } catch (err) {
    throw new ReleaseSignatureError(`${what}: the release signature does not verify against the release keys: ${errorMessage(err)}`);
  }
  let signed: unknown;
  try {
    signed = JSON.parse(Buffer.from(content).toString('utf8'));
  } catch {
    throw new ReleaseSignatureError(`${what}: the signed content of the release signature is not JSON`);
  }
  const critical = (signed as { critical?: { type?: unknown; image?: Record<string, unknown>; identity?: Record<string, unknown> } } | null)?.critical;
  if (critical?.type !== 'atomic container signature') {
    throw new ReleaseSignatureError(`${what}: the release signature is not an atomic container signature (critical.type ${JSON.stringify(critical?.type)})`);
  }
  const signedDigest = critical.image?.['docker-manifest-digest'];
  if (signedDigest !== digest) {
    throw new ReleaseSignatureError(`${what}: the release signature is for ${String(signedDigest)}, not for the payload ${digest}`);
  }
  const identity = critical.identity?.['docker-reference'];
  if (typeof identity !== 'string') throw new ReleaseSignatureError(`${what}: the release signature has no critical.identity.docker-reference`);
  try {
    parseReference(identity);
  } catch (err) {
    throw new ReleaseSignatureError(`${what}: the release signature's identity "${identity}" is not an image reference: ${errorMessage(err)}`);
  }
  return identity;
}

export interface SignatureStoreOptions {
  http: HttpClient;
  metadata: MetadataFiles;
  /** disk to mirror, delete: saved signatures only */
  offline: boolean;
  env: NodeJS.ProcessEnv;
}

/** Finds, verifies and saves the signatures of one run's payloads. */
export class ReleaseSignatures {
  private keys: Promise<openpgp.PublicKey[]> | undefined;

  constructor(private readonly opts: SignatureStoreOptions) {}

  /** The verified signature of the payload `digest`: saved by an earlier run, else fetched (not offline). */
  async get(digest: string, what: string): Promise<VerifiedSignature> {
    const bytes = (await this.saved(digest)) ?? (await this.fetch(digest, what));
    this.keys ??= loadVerificationKeys(this.opts.env);
    const identity = await verifyReleaseSignature(bytes, digest, await this.keys, what);
    return { bytes, identity };
  }

  /** Saves a verified signature under the release's name (and so into mirror to disk's archive). */
  async save(releaseTag: string, digest: string, bytes: Buffer): Promise<void> {
    await this.opts.metadata.write(`${SIGNATURES_DIR}/${signatureFileName(releaseTag, digest)}`, bytes);
  }

  private async saved(digest: string): Promise<Buffer | undefined> {
    const suffix = `-${digest.replace(':', '-')}`;
    const name = (await this.opts.metadata.list(SIGNATURES_DIR)).find((n) => n.endsWith(suffix));
    return name ? this.opts.metadata.read(`${SIGNATURES_DIR}/${name}`) : undefined;
  }

  private async fetch(digest: string, what: string): Promise<Buffer> {
    if (this.opts.offline) {
      throw new ReleaseSignatureError(
        `${what}: no signature of ${digest} in working-dir/${SIGNATURES_DIR} (neither in the archives nor in the workspace): mirror it to disk again, or pass --ignore-release-signature`,
      );
    }
    const url = signatureUrl(this.opts.env.OCP_SIGNATURE_URL || DEFAULT_SIGNATURE_URL, digest);
    try {
      return await this.opts.http.getBytes(url, { maxBytes: MAX_SIGNATURE_BYTES });
    } catch (err) {
      const reason = err instanceof HttpError && err.status === 404 ? 'no signature found' : errorMessage(err);
      throw new ReleaseSignatureError(`${what}: cannot get the release signature from ${redact(url)}: ${reason} (set OCP_SIGNATURE_URL for another signature store, or pass --ignore-release-signature)`);
    }
  }
}
