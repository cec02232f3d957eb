/**
 * Images of rendered manifests: each rendered template is split into YAML documents, and the
 * container image fields (oc-mirror's four paths, plus CronJob pods) and the chart's own
 * `imagePaths` are read from every document.
 */
import { parseAllDocuments } from 'yaml';
import { errorMessage } from '../errors.js';
import { formatReference, parseReference, type ImageReference } from '../image/reference.js';
import { HelmError } from './errors.js';
import { evaluateJsonPath, parseJsonPath, type JsonPath } from './jsonpath.js';

/** Where Kubernetes workloads keep their images: oc-mirror's four paths, and CronJobs' pod template. */
export const DEFAULT_IMAGE_PATHS: readonly JsonPath[] = [
  '{.spec.template.spec.initContainers[*].image}',
  '{.spec.template.spec.containers[*].image}',
  '{.spec.initContainers[*].image}',
  '{.spec.containers[*].image}',
  '{.spec.jobTemplate.spec.template.spec.initContainers[*].image}',
  '{.spec.jobTemplate.spec.template.spec.containers[*].image}',
].map(parseJsonPath);

export interface FoundImage {
  /** normalised reference */
  image: string;
  /** the template whose output held it */
  template: string;
}

export interface ImageScan {
  images: FoundImage[];
  /** values of container image fields that are not image references (a value left empty, say) */
  warnings: string[];
}

function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function tryParse(word: string): ImageReference | undefined {
  try {
    return parseReference(word);
  } catch {
    return undefined;
  }
}

/**
 * The images of rendered templates (template name → output). A container image without tag or
 * digest is what the kubelet pulls as `:latest`, so it is taken as such. Values found through the
 * chart's own `imagePaths` are kept only when they are full references (tag or digest): such
 * paths often point at lists of environment values, where most words are not images, and
 * oc-mirror likewise keeps only what parses (ref §9).
 */
export function findImages(rendered: ReadonlyMap<string, string>, imagePaths: readonly JsonPath[], chartLabel: string): ImageScan {
  const images: FoundImage[] = [];
  const seen = new Set<string>();
  const warnings: string[] = [];
  const add = (ref: ImageReference, template: string) => {
    const image = formatReference(ref);
    if (seen.has(image)) return;
    seen.add(image);
    images.push({ image, template });
  };
  for (const [template, output] of rendered) {
    const docs = parseAllDocuments(output, { version: '1.1', merge: true });
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      if (doc.errors.length) {
        throw new HelmError(`chart ${chartLabel}: ${template}: the rendered output is not YAML: ${errorMessage(doc.errors[0]).split('\n')[0]}`);
      }
      const value: unknown = doc.toJS({ maxAliasCount: 10_000 });
      if (value === null || typeof value !== 'object') continue;
      for (const path of DEFAULT_IMAGE_PATHS) {
        for (const found of evaluateJsonPath(path, value)) {
          const words = (scalarText(found) ?? '').split(/\s+/).filter(Boolean);
          if (words.length === 0) warnings.push(`chart ${chartLabel}: ${template}: a container image is empty; nothing to mirror for it`);
          for (const word of words) {
            const ref = tryParse(word);
            if (!ref) warnings.push(`chart ${chartLabel}: ${template}: image "${word}" is not an image reference; not mirrored`);
            else add(ref.tag || ref.digest ? ref : { ...ref, tag: 'latest' }, template);
          }
        }
      }
      for (const path of imagePaths) {
        for (const found of evaluateJsonPath(path, value)) {
          for (const word of (scalarText(found) ?? '').split(/\s+/).filter(Boolean)) {
            const ref = tryParse(word);
            if (ref && (ref.tag || ref.digest)) add(ref, template);
          }
        }
      }
    }
  }
  return { images, warnings };
}
