/** Helm's template engine: Go's builtins, Sprig, and Helm's own functions over one template set. */
import { contextual, fixed, type FuncTable } from './define.js';
import { Failure, FailureError, TemplateError } from './error.js';
import { fromJson, fromJsonArray, fromToml, fromYaml, fromYamlArray, goJson, toToml, toYaml, toYamlPretty } from './encoding.js';
import { goQuote } from './fmt.js';
import { TemplateSet } from './set.js';
import { SPRIG, strval } from './sprig.js';
import { isNil } from './values.js';

const str = (v: unknown): string => (isNil(v) ? '' : strval(v));

/** Shortens a template text for error messages. */
const excerpt = (s: string): string => goQuote(s.length > 60 ? `${s.slice(0, 57)}...` : s);

const HELM: FuncTable = {
  include: contextual(2, 2, (ctx, name: unknown, data: unknown) => ctx.executeTemplate(str(name), data)),
  tpl: contextual(2, 2, (ctx, text: unknown, data: unknown) => {
    try {
      return ctx.executeText(str(text), data).replaceAll('<no value>', '');
    } catch (err) {
      // fail/required inside the text keep their own message; anything else names the text.
      if (err instanceof FailureError || !(err instanceof TemplateError)) throw err;
      throw new Error(`${excerpt(str(text))}: line ${err.line}: ${err.detail}`);
    }
  }),
  required: fixed((message: unknown, value: unknown) => {
    if (isNil(value) || value === '') throw new Failure(str(message));
    return value;
  }),
  toYaml: fixed((v: unknown) => {
    try {
      return toYaml(v);
    } catch {
      return '';
    }
  }),
  toYamlPretty: fixed((v: unknown) => {
    try {
      return toYamlPretty(v);
    } catch {
      return '';
    }
  }),
  fromYaml: fixed((s: unknown) => fromYaml(str(s))),
  fromYamlArray: fixed((s: unknown) => fromYamlArray(str(s))),
  toJson: fixed((v: unknown) => {
    try {
      return goJson(v);
    } catch {
      return '';
    }
  }),
  fromJson: fixed((s: unknown) => fromJson(str(s))),
  fromJsonArray: fixed((s: unknown) => fromJsonArray(str(s))),
  toToml: fixed(toToml),
  fromToml: fixed((s: unknown) => fromToml(str(s))),
  // Rendering offline: `helm template` answers every lookup with an empty map.
  lookup: fixed((_apiVersion: unknown, _kind: unknown, _namespace: unknown, _name: unknown) => ({})),
};

/** A TemplateSet with Go's builtins, Sprig's functions, and Helm's (include, tpl, required, toYaml, fromYaml, toJson, fromJson, lookup → empty map, ...). Missing map keys render as Helm does (empty, not `<no value>`). */
export function helmTemplateSet(): TemplateSet {
  return new TemplateSet({}, { definitions: { ...SPRIG, ...HELM }, dropNoValue: true });
}
