import type { Readable } from 'node:stream';
import type { Descriptor, RawManifest } from './manifest.js';

/**
 * Where images are read from. Implemented by the registry client (one repository of a registry),
 * and later by the local store and the archive reader; the copy engine is written once against it.
 */
export interface ImageSource {
  /** `registry/repository`, for messages */
  readonly name: string;
  /** By tag or digest; the bytes are verified against the digest when one was asked for. */
  getManifest(reference: string, signal?: AbortSignal): Promise<RawManifest>;
  /** The blob's bytes, unverified: the caller verifies while streaming. */
  getBlob(desc: Descriptor, signal?: AbortSignal): Promise<Readable>;
}

/** Where images are written to. */
export interface ImageDestination {
  readonly name: string;
  /** The registry host this repository lives on: blobs can be mounted between repositories of one host. */
  readonly host: string;
  /** The repository path on that host. */
  readonly repository: string;
  /** Digest of the manifest stored under a tag or digest, or undefined when there is none. */
  manifestDigest(reference: string, signal?: AbortSignal): Promise<string | undefined>;
  putManifest(manifest: RawManifest, reference: string, signal?: AbortSignal): Promise<void>;
  hasBlob(desc: Descriptor, signal?: AbortSignal): Promise<boolean>;
  /** Stores a blob from a stream that the caller has wrapped in a verifier. */
  putBlob(desc: Descriptor, body: Readable, signal?: AbortSignal): Promise<void>;
  /** Makes a blob already stored in another repository of the same host appear here; false if refused. */
  mountBlob?(desc: Descriptor, fromRepository: string, signal?: AbortSignal): Promise<boolean>;
}
