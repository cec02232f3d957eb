/**
 * `oc-mirror list operators --catalog <ref> [--package <p> [--channel <c>]]` (ref §1.8): what a
 * catalog holds, read the way the mirror command reads catalogs (registries.conf, TLS, authfile).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { ImageSource } from '../image/transport.js';
import type { RawManifest } from '../image/manifest.js';
import type { Logger } from '../log.js';
import { configFiles, extractConfigs, inspectCatalog } from '../operator/catalog-image.js';
import { renderCatalogListing } from '../operator/catalog-listing.js';
import { catalogLocation } from '../operator/catalog-location.js';
import { parseDeclarativeConfig } from '../operator/declarative-config.js';
import { OciLayoutSource } from '../operator/oci-layout.js';
import { credentialLookup } from '../registry/credentials.js';
import { RegistryEndpoints } from '../registry/endpoints.js';
import { loadRegistriesConf } from '../registry/registries-conf.js';
import type { RegistryOptions } from '../registry/client.js';
import { parseArgs, type FlagSpec } from './flags.js';

export const LIST_OPERATORS_FLAGS: FlagSpec[] = [
  { name: 'catalog', kind: 'string', help: 'catalog to list: a registry reference or oci://<dir>' },
  { name: 'package', kind: 'string', help: 'list the channels and heads of this package (requires --catalog)' },
  { name: 'channel', kind: 'string', help: 'list the versions of this channel (requires --catalog and --package)' },
  { name: 'src-tls-verify', kind: 'bool', help: 'verify TLS of the catalog registry; false also allows plain HTTP (default true)' },
  { name: 'src-cert-dir', kind: 'string', help: 'directory of CA certificates (*.crt) for the catalog registry' },
  { name: 'authfile', kind: 'string', help: 'registry credentials (default $REGISTRY_AUTH_FILE, else the containers and docker auth files)' },
  { name: 'registries-conf', kind: 'string', help: 'registries.conf for pulls (default $CONTAINERS_REGISTRIES_CONF, else the containers defaults)' },
  { name: 'catalogs', kind: 'bool', help: '', hidden: true, notSupported: 'listing the Red Hat catalogs of a version is not built yet; name one with --catalog' },
  { name: 'version', kind: 'string', help: '', hidden: true, notSupported: 'listing the Red Hat catalogs of a version is not built yet; name one with --catalog' },
  { name: 'help', short: 'h', kind: 'bool', help: 'show this help' },
];

const USAGE = `Usage:
  oc-mirror list operators --catalog <ref> [--package <p> [--channel <c>]]

Flags:`;

/** Runs `list <what> ...`; returns the exit code. Output goes to `out`. */
export async function runList(argv: string[], env: NodeJS.ProcessEnv, cwd: string, out: (text: string) => void, log: Logger): Promise<number> {
  const [what, ...rest] = argv;
  if (what === 'releases') throw new UsageError('list releases is not built yet in this version');
  if (what !== 'operators') throw new UsageError(`list: unknown subject "${what ?? ''}": use list operators`);
  const args = parseArgs(rest, LIST_OPERATORS_FLAGS);
  const f = args.flags;
  if (f.help) {
    const lines = LIST_OPERATORS_FLAGS.filter((s) => !s.hidden).map((s) => `  ${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.kind === 'bool' ? '' : ` ${s.kind}`}`.padEnd(34) + s.help);
    out(`${USAGE}\n${lines.join('\n')}\n`);
    return 0;
  }
  if (args.positional.length) throw new UsageError(`unexpected argument "${args.positional[0]}"`);
  const catalog = typeof f.catalog === 'string' ? f.catalog : undefined;
  const pkg = typeof f.package === 'string' ? f.package : undefined;
  const channel = typeof f.channel === 'string' ? f.channel : undefined;
  if (!catalog) throw new UsageError('list operators: --catalog is required');
  if (channel !== undefined && pkg === undefined) throw new UsageError('list operators: --channel requires --package');

  const authfile = typeof f.authfile === 'string' ? resolve(cwd, f.authfile) : undefined;
  const certDir = typeof f['src-cert-dir'] === 'string' ? resolve(cwd, f['src-cert-dir']) : undefined;
  const registriesConf = typeof f['registries-conf'] === 'string' ? resolve(cwd, f['registries-conf']) : undefined;
  const side: RegistryOptions = {
    tlsVerify: f['src-tls-verify'] !== false,
    ...(certDir && { certDir }),
    credentials: credentialLookup(authfile, env),
    connections: 4,
    uploadChunkSize: 0,
    log: (m) => log.debug(m),
  };
  const endpoints = new RegistryEndpoints(side, side, loadRegistriesConf(registriesConf, env), log);
  const scratch = await mkdtemp(join(tmpdir(), 'oc-mirror-list-'));
  try {
    const loc = catalogLocation(catalog, cwd);
    let source: ImageSource;
    let top: RawManifest;
    if (loc.kind === 'oci') {
      const layout = new OciLayoutSource(loc.dir);
      source = layout;
      top = await layout.top();
    } else {
      source = endpoints.source(loc.ref);
      top = await source.getManifest(loc.ref.digest ?? loc.ref.tag ?? 'latest');
    }
    const what = `catalog ${catalog}`;
    const image = await inspectCatalog(source, top, what);
    const dir = join(scratch, 'configs');
    await extractConfigs(source, image, dir, what);
    const dc = await parseDeclarativeConfig(configFiles(dir), pkg ? { keep: (p) => p === pkg } : {});
    out(renderCatalogListing(dc, { ...(pkg && { package: pkg }), ...(channel && { channel }) }, catalog));
    return 0;
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await endpoints.close();
  }
}
