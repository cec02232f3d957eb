import { CollectionError, ConfigError, OcMirrorError } from '../errors.js';
import { IMAGE_SET_CONFIGURATION, type DeleteImageSetConfiguration, type ImageSetConfiguration } from '../config/types.js';

/**
 * The `delete:` stanza as the ImageSetConfiguration the collectors read (ref §11.1): the same
 * content kinds under `mirror:`, so a delete list names exactly what mirroring that content wrote.
 */
export function deleteAsImageSet(config: DeleteImageSetConfiguration): ImageSetConfiguration {
  return {
    ...(config.apiVersion !== undefined && { apiVersion: config.apiVersion }),
    kind: IMAGE_SET_CONFIGURATION,
    mirror: { ...config.delete },
  };
}

/** `mirror.<content kind>` as a field path, never a host such as `mirror.example.com`. */
const MIRROR_FIELD = /(^|\s)mirror\.(?=(?:platform|operators|additionalImages|helm|samples)\b)/g;

/**
 * Errors as the user of a delete configuration must read them: collectors name fields as they
 * saw them (`mirror.operators[0]…`) where the user wrote `delete.`; and a delete exits 1 on any
 * error (ref §12.4), so a collection error loses its content-kind exit bit.
 */
export function inDeleteTerms(err: unknown): unknown {
  if (!(err instanceof OcMirrorError)) return err;
  const message = err.message.replace(MIRROR_FIELD, '$1delete.');
  if (err instanceof CollectionError) return new OcMirrorError(message, { cause: err });
  if (message === err.message) return err;
  return err instanceof ConfigError ? new ConfigError(message, { cause: err }) : new OcMirrorError(message, { cause: err });
}
