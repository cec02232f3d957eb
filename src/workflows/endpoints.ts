import type { Endpoints } from '../copy/engine.js';
import type { ImageReference } from '../image/reference.js';
import type { ImageDestination, ImageSource } from '../image/transport.js';
import type { Logger } from '../log.js';
import type { MirrorOptions } from '../options.js';
import type { RegistryOptions } from '../registry/client.js';
import { HttpClient } from '../http/client.js';
import { credentialLookup } from '../registry/credentials.js';
import { RegistryEndpoints } from '../registry/endpoints.js';
import { loadRegistriesConf } from '../registry/registries-conf.js';

/** A local image holder (the store, archives) addressed by the pseudo host `localhost:<port>`, as oc-mirror's cache. */
export interface LocalEndpoint {
  host: string;
  source(repository: string): ImageSource;
  destination?(repository: string): ImageDestination;
}

/** Registries for real hosts; the local store or archives for the pseudo host. */
export class WorkflowEndpoints implements Endpoints {
  constructor(
    readonly registries: RegistryEndpoints,
    private readonly local?: LocalEndpoint,
  ) {}

  source(ref: ImageReference): ImageSource {
    if (this.local && ref.registry === this.local.host) return this.local.source(ref.repository);
    return this.registries.source(ref);
  }

  destination(ref: ImageReference): ImageDestination {
    if (this.local?.destination && ref.registry === this.local.host) return this.local.destination(ref.repository);
    return this.registries.destination(ref);
  }

  close(): Promise<void> {
    return this.registries.close();
  }
}

export function registryEndpoints(options: MirrorOptions, log: Logger): RegistryEndpoints {
  const credentials = credentialLookup(options.authfile);
  const side = (tlsVerify: boolean, certDir: string | undefined): RegistryOptions => ({
    tlsVerify,
    ...(certDir && { certDir }),
    credentials,
    connections: options.parallelImages * options.parallelLayers + 2,
    uploadChunkSize: options.uploadChunkSize,
    log: (m: string) => log.debug(m),
  });
  // Loaded once, up front: a bad registries.conf fails the run before anything is copied.
  const pullRules = loadRegistriesConf(options.registriesConf);
  for (const i of pullRules.ignored) (i.unknown ? log.warn.bind(log) : log.debug.bind(log))(`${i.file}: ${i.key}: ${i.reason}`);
  if (pullRules.files.length > 0) log.info(`registries.conf: ${pullRules.files.join(', ')}`);
  return new RegistryEndpoints(side(options.srcTlsVerify, options.srcCertDir), side(options.destTlsVerify, options.destCertDir), pullRules, log);
}

/** The HTTP client collectors use for non-registry sources, with the source side's TLS policy. */
export function sourceHttpClient(options: MirrorOptions): HttpClient {
  return new HttpClient({
    tlsVerify: options.srcTlsVerify,
    ...(options.srcCertDir && { certDir: options.srcCertDir }),
    credentials: credentialLookup(options.authfile),
  });
}
