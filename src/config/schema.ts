import * as check from './checks.js';
import type {
  AdditionalImage,
  BlockedImage,
  Delete,
  DeleteImageSetConfiguration,
  Helm,
  HelmChart,
  HelmRepository,
  ImageSetConfiguration,
  LocalHelmChart,
  Mirror,
  Operator,
  OperatorChannel,
  OperatorPackage,
  Platform,
  PlatformFilter,
  ReleaseChannel,
  SampleImage,
} from './types.js';
import { bool, checkedInt, checkedString, list, object, required, string } from './walk.js';

/**
 * The schema table (ref §2.1, §2.2): every object, its fields, their types and the value checks
 * that need no other field. Rules that relate several fields live in `validate.ts`.
 */

const nonEmpty = required(string);

const platformFilter = object<PlatformFilter>({
  os: nonEmpty,
  architecture: nonEmpty,
});

const releaseChannel = object<ReleaseChannel>({
  name: nonEmpty,
  type: checkedString(check.channelType),
  minVersion: checkedString(check.semver),
  maxVersion: checkedString(check.semver),
  shortestPath: bool,
  full: bool,
});

const platform = object<Platform>({
  graph: bool,
  release: string,
  kubeVirtContainer: bool,
  architectures: list(checkedString(check.architecture)),
  platforms: list(platformFilter),
  channels: list(releaseChannel),
});

const operatorChannel = object<OperatorChannel>({
  name: nonEmpty,
  minVersion: checkedString(check.semver),
  maxVersion: checkedString(check.semver),
});

const operatorPackage = object<OperatorPackage>({
  name: nonEmpty,
  defaultChannel: string,
  minVersion: checkedString(check.semver),
  maxVersion: checkedString(check.semver),
  channels: list(operatorChannel),
});

const operator = object<Operator>({
  catalog: required(checkedString(check.catalog)),
  targetCatalog: checkedString(check.repositoryPath),
  targetTag: checkedString(check.tag),
  full: bool,
  skipDependencies: bool,
  targetCatalogSourceTemplate: string,
  platforms: list(platformFilter),
  packages: list(operatorPackage),
});

const additionalImage = object<AdditionalImage>({
  name: required(checkedString(check.additionalImage)),
  targetRepo: checkedString(check.repositoryPath),
  targetTag: checkedString(check.tag),
  platforms: list(platformFilter),
});

// oc-mirror uses one Go struct for both kinds of chart, so it also accepts `path` on a repository
// chart and `version` on a local one, and ignores them; we refuse what would be ignored.
const helmChart = object<HelmChart>({
  name: nonEmpty,
  version: string,
  imagePaths: list(string),
  platforms: list(platformFilter),
});

const localHelmChart = object<LocalHelmChart>({
  name: nonEmpty,
  path: nonEmpty,
  imagePaths: list(string),
  platforms: list(platformFilter),
});

const helmRepository = object<HelmRepository>({
  name: nonEmpty,
  url: required(checkedString(check.url)),
  charts: list(helmChart),
});

const helm = object<Helm>({
  repositories: list(helmRepository),
  local: list(localHelmChart),
});

const blockedImage = object<BlockedImage>({
  name: required(checkedString(check.blockedPattern)),
});

const sampleImage = object<SampleImage>({
  name: nonEmpty,
});

const mirror = object<Mirror>({
  platform,
  operators: list(operator),
  additionalImages: list(additionalImage),
  helm,
  blockedImages: list(blockedImage),
  samples: list(sampleImage),
});

const deleteContent = object<Delete>({
  platform,
  operators: list(operator),
  additionalImages: list(additionalImage),
  helm,
  samples: list(sampleImage),
});

export const imageSetConfigurationSchema = object<ImageSetConfiguration>({
  apiVersion: checkedString(check.apiVersion),
  kind: nonEmpty,
  archiveSize: checkedInt(check.archiveSize),
  mirror: required(mirror),
});

export const deleteImageSetConfigurationSchema = object<DeleteImageSetConfiguration>({
  apiVersion: checkedString(check.apiVersion),
  kind: nonEmpty,
  delete: required(deleteContent),
});
