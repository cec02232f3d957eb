/**
 * The Kubernetes JSONPath dialect that oc-mirror evaluates on rendered manifests (with missing keys
 * allowed): `{...}` expressions made of children (`.name`, `['name']`), wildcards (`.*`, `[*]`),
 * indexes and slices (`[0]`, `[-1]`, `[1:3]`), recursive descent (`..name`), unions (`[0,2]`,
 * `['a','b']`) and simple filters (`[?(@.name == "x")]`, `[?(@.image)]`). Text outside braces is
 * literal in Kubernetes and holds no image, so it is ignored; a path without braces is read as one
 * expression.
 */

type Filter = { path: Step[]; op?: '==' | '!=' | '<' | '<=' | '>' | '>='; value?: string | number | boolean | null };

type Step =
  | { kind: 'child'; names: string[] }
  | { kind: 'wildcard' }
  | { kind: 'index'; indexes: number[] }
  | { kind: 'slice'; start?: number; end?: number; step?: number }
  | { kind: 'recursive'; then: Step }
  | { kind: 'filter'; filter: Filter };

export interface JsonPath {
  source: string;
  expressions: Step[][];
}

export class JsonPathError extends Error {}

class Parser {
  pos = 0;
  constructor(readonly text: string) {}

  fail(what: string): never {
    throw new JsonPathError(`${what} at offset ${this.pos}`);
  }
  peek(n = 0): string {
    return this.text[this.pos + n] ?? '';
  }
  eat(s: string): boolean {
    if (this.text.startsWith(s, this.pos)) {
      this.pos += s.length;
      return true;
    }
    return false;
  }
  skipSpaces(): void {
    while (this.peek() === ' ') this.pos++;
  }
  done(): boolean {
    return this.pos >= this.text.length;
  }

  name(): string {
    const m = /^[A-Za-z0-9_\-/$]+/.exec(this.text.slice(this.pos));
    if (!m) this.fail('a field name is expected');
    this.pos += m[0].length;
    return m[0];
  }

  quoted(): string {
    const q = this.peek();
    this.pos++;
    let out = '';
    while (!this.done() && this.peek() !== q) {
      if (this.peek() === '\\') this.pos++;
      out += this.peek();
      this.pos++;
    }
    if (!this.eat(q)) this.fail('an unterminated string');
    return out;
  }

  int(): number | undefined {
    const m = /^-?\d+/.exec(this.text.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    return Number(m[0]);
  }

  /** steps until `end()` says stop */
  steps(end: () => boolean): Step[] {
    const steps: Step[] = [];
    this.eat('$');
    // `{name}` and `{.name}` are both a child of the root.
    if (!end() && /[A-Za-z_]/.test(this.peek())) steps.push({ kind: 'child', names: [this.name()] });
    while (!end()) {
      if (this.eat('..')) {
        const then = this.peek() === '[' ? this.bracket() : this.peek() === '*' ? (this.pos++, { kind: 'wildcard' as const }) : { kind: 'child' as const, names: [this.name()] };
        steps.push({ kind: 'recursive', then });
      } else if (this.eat('.')) {
        if (this.eat('*')) steps.push({ kind: 'wildcard' });
        else steps.push({ kind: 'child', names: [this.name()] });
      } else if (this.peek() === '[') {
        steps.push(this.bracket());
      } else this.fail(`unexpected "${this.peek()}"`);
    }
    return steps;
  }

  bracket(): Step {
    this.eat('[');
    this.skipSpaces();
    let step: Step;
    if (this.eat('*')) step = { kind: 'wildcard' };
    else if (this.eat('?(')) {
      step = { kind: 'filter', filter: this.filter() };
      if (!this.eat(')')) this.fail('")" is expected to close the filter');
    } else if (this.peek() === "'" || this.peek() === '"') {
      const names = [this.quoted()];
      for (this.skipSpaces(); this.eat(','); this.skipSpaces()) {
        this.skipSpaces();
        if (this.peek() !== "'" && this.peek() !== '"') this.fail('a quoted name is expected');
        names.push(this.quoted());
      }
      step = { kind: 'child', names };
    } else {
      const first = this.int();
      if (this.peek() === ':') {
        this.pos++;
        const end = this.int();
        let stepBy: number | undefined;
        if (this.eat(':')) stepBy = this.int();
        if (stepBy === 0) this.fail('a slice step of 0');
        step = { kind: 'slice', ...(first !== undefined && { start: first }), ...(end !== undefined && { end }), ...(stepBy !== undefined && { step: stepBy }) };
      } else {
        if (first === undefined) this.fail('an index, a quoted name, * or a filter is expected');
        const indexes = [first];
        while (this.eat(',')) {
          const next = this.int();
          if (next === undefined) this.fail('an index is expected');
          indexes.push(next);
        }
        step = { kind: 'index', indexes };
      }
    }
    this.skipSpaces();
    if (!this.eat(']')) this.fail('"]" is expected');
    return step;
  }

  filter(): Filter {
    this.skipSpaces();
    if (!this.eat('@')) this.fail('a filter starts with @');
    const path = this.steps(() => this.done() || /[\s)=!<>]/.test(this.peek()));
    this.skipSpaces();
    const op = (['==', '!=', '<=', '>=', '<', '>'] as const).find((o) => this.eat(o));
    if (!op) return { path };
    this.skipSpaces();
    let value: Filter['value'];
    if (this.peek() === "'" || this.peek() === '"') value = this.quoted();
    else if (this.eat('true')) value = true;
    else if (this.eat('false')) value = false;
    else if (this.eat('null')) value = null;
    else {
      const m = /^-?\d+(\.\d+)?/.exec(this.text.slice(this.pos));
      if (!m) this.fail('a string, number, true, false or null is expected');
      this.pos += m[0].length;
      value = Number(m[0]);
    }
    this.skipSpaces();
    return { path, op, value };
  }
}

/** Parses a JSONPath template; throws JsonPathError saying what is wrong and where. */
export function parseJsonPath(source: string): JsonPath {
  const expressions: Step[][] = [];
  const text = source.trim();
  if (!text.includes('{')) {
    if (text === '') throw new JsonPathError('the path is empty');
    const p = new Parser(text);
    expressions.push(p.steps(() => p.done()));
    return { source, expressions };
  }
  let pos = 0;
  while (pos < text.length) {
    const open = text.indexOf('{', pos);
    if (open < 0) break;
    const close = text.indexOf('}', open);
    if (close < 0) throw new JsonPathError(`unclosed "{" at offset ${open}`);
    const inner = text.slice(open + 1, close).trim();
    if (inner === '') throw new JsonPathError(`empty expression at offset ${open}`);
    // range/end blocks of Kubernetes templates only repeat literal text: nothing to evaluate.
    if (!/^range\b|^end$/.test(inner)) {
      const p = new Parser(inner);
      try {
        expressions.push(p.steps(() => p.done()));
      } catch (err) {
        throw new JsonPathError(`${(err as Error).message} in "{${inner}}"`);
      }
    }
    pos = close + 1;
  }
  return { source, expressions };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (isObject(v)) return Object.values(v);
  return [];
}

function compare(a: unknown, op: NonNullable<Filter['op']>, b: Filter['value']): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    default:
      if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string')) return false;
      if (op === '<') return (a as number) < (b as number);
      if (op === '<=') return (a as number) <= (b as number);
      if (op === '>') return (a as number) > (b as number);
      return (a as number) >= (b as number);
  }
}

function apply(step: Step, nodes: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const node of nodes) {
    switch (step.kind) {
      case 'child':
        if (isObject(node)) for (const n of step.names) if (n in node) out.push(node[n]);
        break;
      case 'wildcard':
        out.push(...children(node));
        break;
      case 'index':
        if (Array.isArray(node)) {
          for (const i of step.indexes) {
            const at = i < 0 ? node.length + i : i;
            if (at >= 0 && at < node.length) out.push(node[at]);
          }
        }
        break;
      case 'slice':
        if (Array.isArray(node)) {
          const by = step.step ?? 1;
          const norm = (i: number) => (i < 0 ? Math.max(node.length + i, 0) : Math.min(i, node.length));
          if (by > 0) for (let i = norm(step.start ?? 0); i < norm(step.end ?? node.length); i += by) out.push(node[i]);
          else for (let i = step.start === undefined ? node.length - 1 : norm(step.start); i > (step.end === undefined ? -1 : norm(step.end)); i += by) out.push(node[i]);
        }
        break;
      case 'recursive': {
        const all: unknown[] = [];
        const walk = (v: unknown) => {
          all.push(v);
          for (const c of children(v)) walk(c);
        };
        walk(node);
        out.push(...apply(step.then, all));
        break;
      }
      case 'filter':
        for (const item of children(node)) {
          const found = evaluateSteps(step.filter.path, item);
          if (step.filter.op === undefined ? found.length > 0 : found.some((v) => compare(v, step.filter.op!, step.filter.value))) out.push(item);
        }
        break;
    }
  }
  return out;
}

function evaluateSteps(steps: Step[], root: unknown): unknown[] {
  return steps.reduce<unknown[]>((nodes, step) => apply(step, nodes), [root]);
}

/** Every value the path's expressions select in `doc`; missing keys select nothing. */
export function evaluateJsonPath(path: JsonPath, doc: unknown): unknown[] {
  return path.expressions.flatMap((steps) => evaluateSteps(steps, doc));
}
