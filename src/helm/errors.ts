import { OcMirrorError } from '../errors.js';

/**
 * A chart we cannot mirror: a repository or index that does not answer or parse, a chart archive
 * that is unsafe or malformed, a template that does not render. The message names the chart (and
 * the template and line when there is one) in one line.
 */
export class HelmError extends OcMirrorError {
  override name = 'HelmError';
}
