import type { Endpoints } from '../copy/engine.js';
import { formatReference, repositoryName, type ImageReference } from '../image/reference.js';
import type { ImageSource } from '../image/transport.js';
import type { Logger } from '../log.js';
import { Registry, type RegistryOptions, type RegistryRepository } from './client.js';
import { MirroredSource } from './mirrored-source.js';
import { resolvePull, type PullSource, type RegistriesConf } from './registries-conf.js';

/**
 * Registries by host for the two sides of a copy. Each side has its own TLS policy
 * (`--src-tls-verify`, `--dest-tls-verify`), so one host reached from both sides gets two pools.
 */
export class RegistryEndpoints implements Endpoints {
  private readonly registries = new Map<string, Registry>();
  /** one MirroredSource per image reference, so the copy reuses what the probe learnt */
  private readonly mirrored = new Map<string, ImageSource>();

  constructor(
    private readonly sourceOptions: RegistryOptions,
    private readonly destinationOptions: RegistryOptions,
    /** registries.conf: applies to source pulls only, never to the destination */
    private readonly pullRules: RegistriesConf = { files: [], rules: [], ignored: [] },
    private readonly log: Pick<Logger, 'debug'> = { debug: () => {} },
  ) {}

  /** The source keeps its name; registries.conf may send the pull to mirrors first (enclaves, ref §13.1). */
  source(ref: ImageReference): ImageSource {
    const candidates = resolvePull(this.pullRules, ref);
    if (candidates.length === 1) return this.pullRepository(candidates[0]!);
    const key = formatReference(ref);
    let src = this.mirrored.get(key);
    if (!src) {
      src = new MirroredSource(repositoryName(ref), candidates.map((c) => this.pullRepository(c)), this.log);
      this.mirrored.set(key, src);
    }
    return src;
  }

  /** `insecure = true` in registries.conf turns TLS verification off (and allows plain HTTP) for that host only. */
  private pullRepository(c: PullSource): RegistryRepository {
    const insecure = c.insecure && this.sourceOptions.tlsVerify;
    const options = insecure ? { ...this.sourceOptions, tlsVerify: false } : this.sourceOptions;
    return this.registry(insecure ? 'src-insecure' : 'src', c.registry, options).repository(c.repository, 'pull');
  }

  destination(ref: ImageReference): RegistryRepository {
    return this.registry('dest', ref.registry, this.destinationOptions).repository(ref.repository, 'push');
  }

  /** The destination registry itself, for the pre-flight access check. */
  destinationRegistry(host: string): Registry {
    return this.registry('dest', host, this.destinationOptions);
  }

  async close(): Promise<void> {
    await Promise.all([...this.registries.values()].map((r) => r.close()));
  }

  private registry(side: string, host: string, options: RegistryOptions): Registry {
    const key = `${side}|${host}`;
    let r = this.registries.get(key);
    if (!r) {
      r = new Registry(host, options);
      this.registries.set(key, r);
    }
    return r;
  }
}
