/**
 * The ImageSetConfiguration and DeleteImageSetConfiguration schema, `mirror.openshift.io/v2alpha1`
 * (ref §2.1, §2.2). Plain data as the user wrote it: absent fields stay absent and defaults are
 * read through helpers (`archiveSizeGiB`), because the data is hashed and echoed back to users.
 * The one exception is the architectures default oc-mirror writes into a delete configuration.
 */

export const API_VERSION = 'mirror.openshift.io/v2alpha1';
export const IMAGE_SET_CONFIGURATION = 'ImageSetConfiguration';
export const DELETE_IMAGE_SET_CONFIGURATION = 'DeleteImageSetConfiguration';

/** Values accepted in the deprecated `platform.architectures`; `multi` means the multi-arch payload. */
export const ARCHITECTURES = ['amd64', 'arm64', 'ppc64le', 's390x', 'multi'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export const CHANNEL_TYPES = ['ocp', 'okd'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** One os/architecture pair: selects the manifests of a multi-arch image (sparse copy). */
export interface PlatformFilter {
  os: string;
  architecture: string;
}

export interface ReleaseChannel {
  name: string;
  /** absent means `ocp` */
  type?: ChannelType;
  minVersion?: string;
  maxVersion?: string;
  shortestPath?: boolean;
  full?: boolean;
}

export interface Platform {
  /** mirror the Cincinnati graph-data image and write an UpdateService */
  graph?: boolean;
  /** a single release pull spec, bypassing Cincinnati */
  release?: string;
  kubeVirtContainer?: boolean;
  /** deprecated in favour of `platforms`; the two are mutually exclusive */
  architectures?: Architecture[];
  platforms?: PlatformFilter[];
  channels?: ReleaseChannel[];
}

export interface OperatorChannel {
  name: string;
  minVersion?: string;
  maxVersion?: string;
}

export interface OperatorPackage {
  name: string;
  defaultChannel?: string;
  minVersion?: string;
  maxVersion?: string;
  channels?: OperatorChannel[];
}

export interface Operator {
  /** `[docker://]registry/path:tag|@digest` or `oci://<path>` */
  catalog: string;
  /** replaces the repository path of the catalog at the destination */
  targetCatalog?: string;
  targetTag?: string;
  full?: boolean;
  /** parsed for compatibility; oc-mirror v2 never resolves dependencies (ref §7.2) */
  skipDependencies?: boolean;
  /** path of a CatalogSource template file */
  targetCatalogSourceTemplate?: string;
  platforms?: PlatformFilter[];
  packages?: OperatorPackage[];
}

export interface AdditionalImage {
  /** tag, digest or both are required (no implicit `latest`) */
  name: string;
  targetRepo?: string;
  targetTag?: string;
  platforms?: PlatformFilter[];
}

export interface HelmChart {
  name: string;
  /** absent: the repository's latest */
  version?: string;
  /** extra JSONPath expressions where images are found in rendered manifests */
  imagePaths?: string[];
  platforms?: PlatformFilter[];
}

export interface HelmRepository {
  name: string;
  url: string;
  /** absent: every version of every chart of the repository */
  charts?: HelmChart[];
}

export interface LocalHelmChart {
  name: string;
  /** a chart directory or .tgz */
  path: string;
  imagePaths?: string[];
  platforms?: PlatformFilter[];
}

export interface Helm {
  repositories?: HelmRepository[];
  local?: LocalHelmChart[];
}

export interface BlockedImage {
  /** a Go (RE2) regular expression, matched unanchored; see `compileBlockedPattern` */
  name: string;
}

/** Accepted because oc-mirror accepts it; oc-mirror implements nothing for it and neither do we. */
export interface SampleImage {
  name: string;
}

export interface Mirror {
  platform?: Platform;
  operators?: Operator[];
  additionalImages?: AdditionalImage[];
  helm?: Helm;
  blockedImages?: BlockedImage[];
  samples?: SampleImage[];
}

/** The `delete:` stanza: the mirror content kinds, without blockedImages (ref §2.2). */
export interface Delete {
  platform?: Platform;
  operators?: Operator[];
  additionalImages?: AdditionalImage[];
  helm?: Helm;
  samples?: SampleImage[];
}

export interface ImageSetConfiguration {
  /** absent is accepted; any value other than API_VERSION is refused */
  apiVersion?: string;
  kind: typeof IMAGE_SET_CONFIGURATION;
  /** GiB per archive file; see `archiveSizeGiB` for the default */
  archiveSize?: number;
  /** `mirror:` with no content loads as `{}` */
  mirror: Mirror;
}

export interface DeleteImageSetConfiguration {
  apiVersion?: string;
  kind: typeof DELETE_IMAGE_SET_CONFIGURATION;
  delete: Delete;
}
