import { BUILTINS } from './builtins.js';
import type { FuncTable } from './define.js';
import { TemplateError } from './error.js';
import { executeTree, Namespace, type FuncDef, type Runtime } from './exec.js';
import { parseTemplate, type Tree } from './parse.js';

export type TemplateFunction = (...args: unknown[]) => unknown;

/** How a set differs from plain text/template (Helm's engine sets these). */
export interface TemplateSetOptions {
  /** functions that see their arity checked and may reach the templates (include, tpl) */
  definitions?: FuncTable;
  /** Helm removes every `<no value>` from rendered output */
  dropNoValue?: boolean;
}

/** A set of named templates sharing `define`d templates, as Helm's one template tree per chart. */
export class TemplateSet {
  private readonly namespace = new Namespace();
  private readonly runtime: Runtime;
  private readonly dropNoValue: boolean;

  constructor(functions: Record<string, TemplateFunction> = {}, options: TemplateSetOptions = {}) {
    const funcs = new Map<string, FuncDef>(Object.entries(BUILTINS));
    for (const [name, def] of Object.entries(options.definitions ?? {})) funcs.set(name, def);
    for (const [name, f] of Object.entries(functions)) funcs.set(name, { min: 0, max: Infinity, call: (args) => f(...args) });
    this.dropNoValue = options.dropNoValue ?? false;
    this.runtime = {
      funcs,
      parse: (name, text) => parseTemplate(name, text, (fn) => funcs.has(fn)),
    };
  }

  /** Parses a file; its {{define}}/{{block}} bodies become named templates of the set. Throws TemplateError. */
  add(name: string, text: string): void {
    const trees: Tree[] = this.runtime.parse(name, text);
    for (const tree of trees) this.namespace.add(tree);
  }

  has(name: string): boolean {
    return this.namespace.get(name) !== undefined;
  }

  /** Executes template `name` with `data` as dot. Throws TemplateError. */
  execute(name: string, data: unknown): string {
    const tree = this.namespace.get(name);
    if (!tree) throw new TemplateError(name, 0, `no template "${name}" in the set`);
    const out = executeTree(this.runtime, this.namespace, tree, data, 0);
    return this.dropNoValue ? out.replaceAll('<no value>', '') : out;
  }
}
