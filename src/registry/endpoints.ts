import type { Endpoints } from '../copy/engine.js';
import type { ImageReference } from '../image/reference.js';
import { Registry, type RegistryOptions, type RegistryRepository } from './client.js';

/**
 * Registries by host for the two sides of a copy. Each side has its own TLS policy
 * (`--src-tls-verify`, `--dest-tls-verify`), so one host reached from both sides gets two pools.
 */
export class RegistryEndpoints implements Endpoints {
  private readonly registries = new Map<string, Registry>();

  constructor(
    private readonly sourceOptions: RegistryOptions,
    private readonly destinationOptions: RegistryOptions,
  ) {}

  source(ref: ImageReference): RegistryRepository {
    return this.registry('src', ref.registry, this.sourceOptions).repository(ref.repository, 'pull');
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
