import { OcMirrorError } from '../../errors.js';

/** A template failed to parse or execute; the message names template and line, e.g. `mychart/templates/deployment.yaml:12: function "foo" not defined`. */
export class TemplateError extends OcMirrorError {
  override name = 'TemplateError';
  constructor(
    readonly template: string,
    readonly line: number,
    /** what went wrong, without the location */
    readonly detail: string,
  ) {
    super(`${template}:${line}: ${detail}`);
  }
}

/** `fail` and `required` messages: shown as they are, at the location of the call. */
export class FailureError extends TemplateError {
  override name = 'TemplateError';
}

/** Thrown by `fail` and `required`: the executor turns it into a FailureError where the call was. */
export class Failure extends Error {}
