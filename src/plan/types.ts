/**
 * The Plan is plain data: collectors produce CollectedImages, the planner turns them into
 * CopyTasks, and mapping.txt, the copy engine and the cluster resources all read the same tasks.
 */

/** oc-mirror's image type strings (ref §5.3, §11.1); they appear in delete lists and reports. */
export type ImageKind =
  | 'ocpRelease'
  | 'ocpReleaseContent'
  | 'cincinnatiGraph'
  | 'operatorCatalog'
  | 'operatorBundle'
  | 'operatorRelatedImage'
  | 'generic'
  | 'helmImage';

/** The four categories of the results summary, the exit-code bits and the IDMS/ITMS objects. */
export type Origin = 'release' | 'operator' | 'additional' | 'helm';

export function originOf(kind: ImageKind): Origin {
  switch (kind) {
    case 'ocpRelease':
    case 'ocpReleaseContent':
    case 'cincinnatiGraph':
      return 'release';
    case 'operatorCatalog':
    case 'operatorBundle':
    case 'operatorRelatedImage':
      return 'operator';
    case 'generic':
      return 'additional';
    case 'helmImage':
      return 'helm';
  }
}

/** What an image belongs to, so a failure can name what it breaks. */
export interface Membership {
  /** operator packages and bundles that need this image */
  operators?: { catalog: string; packages: string[]; bundles: string[] };
  /** release version, e.g. 4.18.1-x86_64 */
  release?: string;
  /** helm chart name-version */
  chart?: string;
}

export interface CollectedImage {
  /** normalised source, `registry/repository[:tag][@digest]` (no transport) */
  source: string;
  kind: ImageKind;
  /** additionalImages.targetRepo, targetCatalog: replaces the repository path at the destination */
  targetRepo?: string;
  /** additionalImages.targetTag, targetTag: replaces the tag at the destination */
  targetTag?: string;
  /**
   * An image a collector built (rebuilt catalog, graph image): where it sits in the local store,
   * `localhost:<port>/<path>:<tag>`; `source` is the name it is mirrored under.
   */
  pullFrom?: string;
  belongsTo?: Membership;
}

export interface CopyTask {
  /** `registry/repository[:tag][@digest]`: the image's own name, used in reports and IDMS/ITMS */
  source: string;
  /**
   * Where the bytes are read from when that is not `source`: disk to mirror reads the local
   * store's or the archive's copy (`localhost:<port>/<path>:<tag>`), as oc-mirror's cache.
   */
  pullFrom?: string;
  /**
   * Disk to mirror of an incremental archive: the digest an earlier archive carried this image
   * with. When the archives no longer hold the image, the destination must already have it.
   */
  expectedDigest?: string;
  /** `registry/repository:tag` at the destination */
  destination: string;
  kind: ImageKind;
  origin: Origin;
  belongsTo?: Membership;
}

export interface Plan {
  /** the destination as given, `docker://host[:port][/prefix]` */
  destination: string;
  tasks: CopyTask[];
}
