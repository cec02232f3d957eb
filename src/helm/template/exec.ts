/** Go text/template's executor over parsed trees, with Helm's `missingkey=zero` behaviour. */
import { Failure, FailureError, TemplateError } from './error.js';
import { formatValue } from './fmt.js';
import { argString, commandString, type Arg, type Command, type Node, type Pipe, type Tree } from './parse.js';
import { isMap, isNil, isStruct, sortedKeys, truth, typeName } from './values.js';

/** What a function call can reach besides its arguments (include and tpl need the templates). */
export interface CallContext {
  /** Executes a template of the namespace the caller runs in. */
  executeTemplate(name: string, data: unknown): string;
  /** Parses `text` in a child namespace of the caller's (its defines do not leak) and executes it. */
  executeText(text: string, data: unknown): string;
}

export interface FuncDef {
  call(args: unknown[], ctx: CallContext): unknown;
  /** fewest and most arguments accepted */
  min: number;
  max: number;
}

/** The template names visible to an execution; `tpl` adds a child layer. */
export class Namespace {
  private readonly own = new Map<string, Tree>();
  constructor(private readonly parent?: Namespace) {}

  get(name: string): Tree | undefined {
    return this.own.get(name) ?? this.parent?.get(name);
  }

  /** Go keeps an existing definition when the new one is empty (whitespace only). */
  add(tree: Tree): void {
    if (this.get(tree.name) && isEmptyTree(tree.root)) return;
    this.own.set(tree.name, tree);
  }
}

function isEmptyTree(nodes: Node[]): boolean {
  return nodes.every((n) => n.type === 'text' && n.text.trim() === '');
}

export interface Runtime {
  funcs: Map<string, FuncDef>;
  parse(name: string, text: string): Tree[];
}

/** Nesting of template calls, include and tpl: recursion deeper than this is an error. */
export const MAX_DEPTH = 300;

const MISSING = Symbol('missing final value');

class LoopJump {
  constructor(readonly kind: 'break' | 'continue') {}
}

interface Variable {
  name: string;
  value: unknown;
}

export function executeTree(rt: Runtime, ns: Namespace, tree: Tree, data: unknown, depth: number): string {
  if (depth > MAX_DEPTH) {
    throw new TemplateError(tree.file, 0, `exceeded maximum template depth (${MAX_DEPTH}) executing "${tree.name}"`);
  }
  const dot = isNil(data) ? undefined : data;
  const exec = new Executor(rt, ns, tree, dot, depth);
  exec.walk(dot, tree.root);
  return exec.output();
}

class Executor {
  private readonly out: string[] = [];
  private readonly vars: Variable[];
  private line = 0;
  private at = '';

  constructor(
    private readonly rt: Runtime,
    private readonly ns: Namespace,
    private readonly tree: Tree,
    root: unknown,
    private readonly depth: number,
  ) {
    this.vars = [{ name: '$', value: root }];
  }

  output(): string {
    return this.out.join('');
  }

  private fail(message: string): never {
    throw new TemplateError(this.tree.file, this.line, `executing "${this.tree.name}" at <${this.at}>: ${message}`);
  }

  walk(dot: unknown, nodes: Node[]): void {
    for (const node of nodes) {
      this.line = node.line;
      switch (node.type) {
        case 'text':
          this.out.push(node.text);
          break;
        case 'action': {
          const v = this.evalPipeline(dot, node.pipe);
          if (node.pipe.decl.length === 0) this.out.push(printable(v));
          break;
        }
        case 'if':
        case 'with':
          this.walkIfOrWith(dot, node.type, node.pipe, node.list, node.elseList);
          break;
        case 'range':
          this.walkRange(dot, node.pipe, node.list, node.elseList);
          break;
        case 'template': {
          const tree = this.ns.get(node.name);
          this.at = `template "${node.name}"`;
          if (!tree) this.fail(`template "${node.name}" not defined`);
          const data = node.pipe ? this.evalPipeline(dot, node.pipe) : undefined;
          this.out.push(executeTree(this.rt, this.ns, tree, data, this.depth + 1));
          break;
        }
        case 'break':
        case 'continue':
          throw new LoopJump(node.type);
      }
    }
  }

  private walkIfOrWith(dot: unknown, kind: 'if' | 'with', pipe: Pipe, list: Node[], elseList?: Node[]): void {
    const mark = this.vars.length;
    const v = this.evalPipeline(dot, pipe);
    if (truth(v)) this.walk(kind === 'with' ? v : dot, list);
    else if (elseList) this.walk(dot, elseList);
    this.vars.length = mark;
  }

  private walkRange(dot: unknown, pipe: Pipe, list: Node[], elseList?: Node[]): void {
    const mark = this.vars.length;
    const v = this.evalPipeline(dot, pipe);
    const [first, second] = pipe.decl;
    // The pipeline declared its variables already; each iteration sets them.
    const iteration = (key: unknown, elem: unknown): boolean => {
      if (first !== undefined) this.setTopVar(second !== undefined ? 2 : 1, second !== undefined ? key : elem);
      if (second !== undefined) this.setTopVar(1, elem);
      const inner = this.vars.length;
      try {
        this.walk(elem, list);
      } catch (err) {
        if (!(err instanceof LoopJump)) throw err;
        if (err.kind === 'break') return false;
      } finally {
        this.vars.length = inner;
      }
      return true;
    };
    let ran = false;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        ran = true;
        if (!iteration(BigInt(i), v[i] ?? null)) break;
      }
    } else if (isMap(v)) {
      for (const k of sortedKeys(v)) {
        ran = true;
        if (!iteration(k, v[k] ?? null)) break;
      }
    } else if (typeof v === 'bigint') {
      if (second !== undefined) this.fail(`can't use ${v} to iterate over more than one variable`);
      for (let i = 0n; i < v; i++) {
        ran = true;
        if (!iteration(i, i)) break;
      }
    } else if (!isNil(v)) {
      this.at = pipeText(pipe);
      this.fail(`range can't iterate over ${formatValue(v)}`);
    }
    if (!ran && elseList) this.walk(dot, elseList);
    this.vars.length = mark;
  }

  private setTopVar(fromTop: number, value: unknown): void {
    this.vars[this.vars.length - fromTop]!.value = value;
  }

  private evalPipeline(dot: unknown, pipe: Pipe): unknown {
    let value: unknown = MISSING;
    for (const cmd of pipe.cmds) {
      this.line = cmd.line;
      value = this.evalCommand(dot, cmd, value);
      // Go digs a nil interface down to "no value" after every command.
      if (value === null) value = undefined;
    }
    for (const name of pipe.decl) {
      if (pipe.isAssign) {
        const v = this.findVar(name);
        if (!v) this.fail(`undefined variable: ${name}`);
        v.value = value;
      } else {
        this.vars.push({ name, value });
      }
    }
    return value;
  }

  private findVar(name: string): Variable | undefined {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i];
    return undefined;
  }

  private evalCommand(dot: unknown, cmd: Command, final: unknown): unknown {
    const first = cmd.args[0]!;
    switch (first.type) {
      case 'field':
        return this.evalFieldChain(dot, dot, first, first.idents, cmd.args, final);
      case 'chain': {
        const receiver = this.evalArg(dot, first.node);
        return this.evalFieldChain(dot, receiver, first, first.idents, cmd.args, final);
      }
      case 'identifier':
        return this.evalFunction(dot, first.name, cmd, cmd.args, final);
      case 'variable': {
        const value = this.variable(first.name);
        if (first.idents.length === 0) {
          this.notAFunction(first, cmd.args, final);
          return value;
        }
        return this.evalFieldChain(dot, value, first, first.idents, cmd.args, final);
      }
      case 'pipe':
        this.notAFunction(first, cmd.args, final);
        return this.evalPipeline(dot, first.pipe);
    }
    this.notAFunction(first, cmd.args, final);
    switch (first.type) {
      case 'bool':
      case 'number':
      case 'string':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        this.at = 'nil';
        return this.fail('nil is not a command');
    }
  }

  private notAFunction(arg: Arg, args: Arg[], final: unknown): void {
    if (args.length > 1 || final !== MISSING) {
      this.at = argString(arg);
      this.fail(`can't give argument to non-function ${argString(arg)}`);
    }
  }

  private variable(name: string): unknown {
    const v = this.findVar(name);
    if (!v) {
      this.at = name;
      this.fail(`undefined variable: ${name}`);
    }
    return v.value;
  }

  private evalFieldChain(dot: unknown, receiver: unknown, node: Arg, idents: string[], args: Arg[], final: unknown): unknown {
    let r = receiver;
    for (let i = 0; i < idents.length - 1; i++) r = this.evalField(dot, idents[i]!, node, [], MISSING, r);
    return this.evalField(dot, idents[idents.length - 1]!, node, args, final, r);
  }

  private evalField(dot: unknown, name: string, node: Arg, args: Arg[], final: unknown, receiver: unknown): unknown {
    this.at = argString(node);
    if (receiver === undefined) return undefined;
    if (receiver === null) this.fail(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = args.length > 1 || final !== MISSING;
    if (isMap(receiver)) {
      if (hasArgs) this.fail(`${name} is not a method but has arguments`);
      return Object.hasOwn(receiver, name) ? (receiver[name] ?? null) : null;
    }
    if (isStruct(receiver) && name in receiver) {
      const member = (receiver as Record<string, unknown>)[name];
      if (typeof member === 'function') {
        const argv = args.slice(1).map((a) => this.evalArg(dot, a));
        if (final !== MISSING) argv.push(final);
        try {
          return (member as (...a: unknown[]) => unknown).apply(receiver, argv.map(nilToNull));
        } catch (err) {
          this.at = argString(node);
          return this.fail(`error calling ${name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      if (hasArgs) this.fail(`${name} has arguments but cannot be invoked as function`);
      return member ?? null;
    }
    return this.fail(`can't evaluate field ${name} in type ${typeName(receiver)}`);
  }

  private evalFunction(dot: unknown, name: string, cmd: Command | undefined, args: Arg[], final: unknown): unknown {
    const fn = this.rt.funcs.get(name);
    const at = cmd ? commandString(cmd) : name;
    this.at = at;
    if (!fn) this.fail(`"${name}" is not a defined function`);
    const given = args.length - 1 + (final === MISSING ? 0 : 1);
    if (given < fn.min || given > fn.max) {
      const want = fn.min === fn.max ? `want ${fn.min}` : given < fn.min ? `want at least ${fn.min}` : `want at most ${fn.max}`;
      this.fail(`wrong number of args for ${name}: ${want} got ${given}`);
    }
    if (name === 'and' || name === 'or') {
      let v: unknown;
      for (const a of args.slice(1)) {
        v = this.evalArg(dot, a);
        if (truth(v) === (name === 'or')) return v;
      }
      return final === MISSING ? v : final;
    }
    const argv = args.slice(1).map((a) => nilToNull(this.evalArg(dot, a)));
    if (final !== MISSING) argv.push(nilToNull(final));
    const line = this.line;
    try {
      return fn.call(argv, this.context());
    } catch (err) {
      if (err instanceof TemplateError) throw err;
      this.line = line;
      this.at = at;
      if (err instanceof Failure) throw new FailureError(this.tree.file, line, err.message);
      this.fail(`error calling ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private context(): CallContext {
    return {
      executeTemplate: (name, data) => {
        const tree = this.ns.get(name);
        if (!tree) throw new Error(`template "${name}" not defined`);
        return executeTree(this.rt, this.ns, tree, data, this.depth + 1);
      },
      executeText: (text, data) => {
        const ns = new Namespace(this.ns);
        const [tree, ...defined] = this.rt.parse(this.tree.name, text);
        for (const t of defined) ns.add(t);
        return executeTree(this.rt, ns, tree!, data, this.depth + 1);
      },
    };
  }

  private evalArg(dot: unknown, arg: Arg): unknown {
    switch (arg.type) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'field':
        return this.evalFieldChain(dot, dot, arg, arg.idents, [arg], MISSING);
      case 'variable': {
        const value = this.variable(arg.name);
        return arg.idents.length ? this.evalFieldChain(dot, value, arg, arg.idents, [arg], MISSING) : value;
      }
      case 'pipe':
        return this.evalPipeline(dot, arg.pipe);
      case 'identifier':
        return this.evalFunction(dot, arg.name, undefined, [arg], MISSING);
      case 'chain': {
        const receiver = this.evalArg(dot, arg.node);
        return this.evalFieldChain(dot, receiver, arg, arg.idents, [arg], MISSING);
      }
      case 'bool':
      case 'number':
      case 'string':
        return arg.value;
    }
  }
}

const nilToNull = (v: unknown): unknown => (v === undefined ? null : v);

function pipeText(pipe: Pipe): string {
  return pipe.cmds.map(commandString).join(' | ');
}

/** What an action prints: Go shows nil and missing values as `<no value>`. */
function printable(v: unknown): string {
  if (isNil(v)) return '<no value>';
  return typeof v === 'string' ? v : formatValue(v);
}
