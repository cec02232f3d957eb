/**
 * Go's text/template with the Sprig and Helm functions, for rendering Helm charts in memory.
 *
 * Data is plain JS: objects are Go maps (map[string]interface{}), arrays are slices, numbers are
 * float64 (as Helm's values, which go through JSON), bigints are Go ints (template literals and
 * integer functions such as `len`, `add` or `int` produce them), null/undefined are nil.
 * Class instances behave as Go structs: their function-valued properties are methods
 * (e.g. `.Capabilities.APIVersions.Has "apps/v1"`).
 */
export { TemplateError } from './error.js';
export { TemplateSet, type TemplateFunction } from './set.js';
export { helmTemplateSet } from './helm.js';
/** Parses YAML as Helm reads values files (YAML 1.1 scalars, merge keys, numbers as float64). */
export { parseHelmYaml } from './encoding.js';
