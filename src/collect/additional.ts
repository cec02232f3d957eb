import type { AdditionalImage } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { formatReference, parseReference } from '../image/reference.js';
import type { CollectedImage } from '../plan/types.js';

/** additionalImages → CollectedImages (ref §10.1). The config layer has already validated each entry. */
export function collectAdditionalImages(images: AdditionalImage[] | undefined): CollectedImage[] {
  return (images ?? []).map((img, i) => {
    if (img.platforms?.length) {
      throw new ConfigError(`mirror.additionalImages[${i}].platforms: per-platform (sparse) copies are not built yet; remove platforms to copy every platform`);
    }
    const ref = parseReference(img.name);
    return {
      source: formatReference(ref),
      kind: 'generic' as const,
      ...(img.targetRepo && { targetRepo: img.targetRepo }),
      ...(img.targetTag && { targetTag: img.targetTag }),
    };
  });
}
