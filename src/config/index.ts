/** The configuration layer: load, validate and read ImageSetConfiguration / DeleteImageSetConfiguration. */
export {
  loadDeleteImageSetConfiguration,
  loadImageSetConfiguration,
  parseDeleteImageSetConfiguration,
  parseImageSetConfiguration,
} from './load.js';
export { archiveSizeGiB, DEFAULT_ARCHIVE_SIZE_GIB } from './defaults.js';
export { compileBlockedPattern } from './blocked.js';
export { catalogUniqueName } from './catalog.js';
export { isSemverLike, normalizeSemver } from './semver.js';
export * from './types.js';
