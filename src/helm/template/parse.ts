/** Go text/template's parser: builds the trees of a file and of the templates it defines. */
import { TemplateError } from './error.js';
import { lex, LexError, type Token, type TokenType } from './lex.js';

export type Node = TextNode | ActionNode | ControlNode | TemplateNode | LoopJumpNode;

export interface TextNode {
  type: 'text';
  line: number;
  text: string;
}
export interface ActionNode {
  type: 'action';
  line: number;
  pipe: Pipe;
}
export interface ControlNode {
  type: 'if' | 'with' | 'range';
  line: number;
  pipe: Pipe;
  list: Node[];
  elseList?: Node[];
}
export interface TemplateNode {
  type: 'template';
  line: number;
  name: string;
  pipe?: Pipe;
}
export interface LoopJumpNode {
  type: 'break' | 'continue';
  line: number;
}

export interface Pipe {
  line: number;
  /** variables declared (`:=`) or assigned (`=`) by the pipeline */
  decl: string[];
  isAssign: boolean;
  cmds: Command[];
}
export interface Command {
  line: number;
  args: Arg[];
}
export type Arg =
  | { type: 'field'; idents: string[] }
  | { type: 'variable'; name: string; idents: string[] }
  | { type: 'chain'; node: Arg; idents: string[] }
  | { type: 'identifier'; name: string }
  | { type: 'pipe'; pipe: Pipe }
  | { type: 'string'; value: string; text: string }
  | { type: 'number'; value: bigint | number; text: string }
  | { type: 'bool'; value: boolean }
  | { type: 'nil' }
  | { type: 'dot' };

/** One parsed template: a file's top level or a `define`d body. */
export interface Tree {
  name: string;
  /** the file it was parsed from, for error locations */
  file: string;
  root: Node[];
}

/**
 * Parses `text` (named `name`); returns the file's own tree and the trees it defines.
 * `hasFunction` tells which identifiers are functions: Go rejects unknown ones at parse time.
 */
export function parseTemplate(name: string, text: string, hasFunction: (name: string) => boolean): Tree[] {
  let tokens: Token[];
  try {
    tokens = lex(text);
  } catch (err) {
    if (err instanceof LexError) throw new TemplateError(name, err.line, err.message);
    throw err;
  }
  return new Parser(name, tokens, hasFunction).parse();
}

/** End and else actions close lists; itemList hands them back to the control being parsed. */
type ListEnd = { type: 'end'; line: number } | { type: 'else'; line: number; chained?: 'if' | 'with' };

class Parser {
  private pos = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private readonly trees: Tree[] = [];

  constructor(
    private readonly name: string,
    private readonly tokens: Token[],
    private readonly hasFunction: (name: string) => boolean,
  ) {}

  parse(): Tree[] {
    const root: Node[] = [];
    for (;;) {
      const t = this.peek();
      if (t.type === 'eof') break;
      if (t.type === 'leftDelim') {
        const save = this.pos;
        this.next();
        const kw = this.nextNonSpace();
        if (kw.type === 'keyword' && kw.value === 'define') {
          this.parseDefinition();
          continue;
        }
        this.pos = save;
      }
      const node = this.textOrAction();
      if (node.type === 'end' || node.type === 'else') this.error(node.line, `unexpected {{${node.type}}}`);
      root.push(node);
    }
    this.trees.unshift({ name: this.name, file: this.name, root });
    return this.trees;
  }

  private error(line: number, message: string): never {
    throw new TemplateError(this.name, line, message);
  }

  private next(): Token {
    return this.tokens[this.pos++] ?? this.tokens[this.tokens.length - 1]!;
  }
  private peek(): Token {
    return this.tokens[this.pos] ?? this.tokens[this.tokens.length - 1]!;
  }
  private nextNonSpace(): Token {
    let t = this.next();
    while (t.type === 'space') t = this.next();
    return t;
  }
  private peekNonSpace(): Token {
    const save = this.pos;
    const t = this.nextNonSpace();
    this.pos = save;
    return t;
  }
  private expect(type: TokenType, context: string): Token {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }
  private unexpected(t: Token, context: string): never {
    if (t.type === 'eof') this.error(t.line, 'unexpected EOF');
    this.error(t.line, `unexpected ${describe(t)} in ${context}`);
  }

  /** `{{define "name"}}` body `{{end}}`: a new tree with its own variables. */
  private parseDefinition(): void {
    const nameTok = this.nextNonSpace();
    if (nameTok.type !== 'string' && nameTok.type !== 'rawString') this.unexpected(nameTok, 'define clause');
    const name = unquote(nameTok, (m) => this.error(nameTok.line, m));
    this.expect('rightDelim', 'define clause');
    const savedVars = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    if (end.type !== 'end') this.error(end.line, `unexpected {{else}} in define clause`);
    this.vars = savedVars;
    this.trees.push({ name, file: this.name, root: list });
  }

  private itemList(): [Node[], ListEnd] {
    const list: Node[] = [];
    for (;;) {
      if (this.peekNonSpace().type === 'eof') this.error(this.peek().line, 'unexpected EOF');
      const node = this.textOrAction();
      if (node.type === 'end' || node.type === 'else') return [list, node];
      list.push(node);
    }
  }

  private textOrAction(): Node | ListEnd {
    const t = this.nextNonSpace();
    if (t.type === 'text') return { type: 'text', line: t.line, text: t.value };
    if (t.type === 'leftDelim') return this.action();
    this.unexpected(t, 'input');
  }

  private action(): Node | ListEnd {
    const t = this.nextNonSpace();
    if (t.type === 'keyword') {
      switch (t.value) {
        case 'block':
          return this.blockControl(t.line);
        case 'break':
        case 'continue':
          return this.loopJump(t);
        case 'else':
          return this.elseControl(t.line);
        case 'end':
          this.expect('rightDelim', 'end');
          return { type: 'end', line: t.line };
        case 'if':
        case 'range':
        case 'with':
          return this.control(t.value, t.line);
        case 'template':
          return this.templateControl(t.line);
        case 'define':
          this.error(t.line, 'unexpected <define> in command');
      }
    }
    this.pos--;
    const line = this.peekNonSpace().line;
    return { type: 'action', line, pipe: this.pipeline('command', 'rightDelim') };
  }

  private loopJump(t: Token): LoopJumpNode {
    const after = this.nextNonSpace();
    if (after.type !== 'rightDelim') this.unexpected(after, `{{${t.value}}}`);
    if (this.rangeDepth === 0) this.error(t.line, `{{${t.value}}} outside {{range}}`);
    return { type: t.value as 'break' | 'continue', line: t.line };
  }

  private elseControl(line: number): ListEnd {
    const peek = this.peekNonSpace();
    if (peek.type === 'keyword' && (peek.value === 'if' || peek.value === 'with')) {
      // `{{else if}}` and `{{else with}}`: the keyword stays pending for the enclosing control.
      return { type: 'else', line, chained: peek.value };
    }
    this.expect('rightDelim', 'else');
    return { type: 'else', line };
  }

  private control(context: 'if' | 'range' | 'with', line: number): ControlNode {
    const varCount = this.vars.length;
    const pipe = this.pipeline(context, 'rightDelim');
    if (context === 'range') this.rangeDepth++;
    let [list, next] = this.itemList();
    if (context === 'range') this.rangeDepth--;
    let elseList: Node[] | undefined;
    if (next.type === 'else') {
      if (next.chained && next.chained === context) {
        const kw = this.nextNonSpace();
        elseList = [this.control(context, kw.line)];
      } else {
        if (next.chained) this.error(next.line, `unexpected <${next.chained}> in else`);
        [elseList, next] = this.itemList();
        if (next.type !== 'end') this.error(next.line, 'expected end; found {{else}}');
      }
    }
    this.vars.length = varCount;
    return { type: context, line, pipe, list, ...(elseList ? { elseList } : {}) };
  }

  private templateName(context: string): string {
    const t = this.nextNonSpace();
    if (t.type !== 'string' && t.type !== 'rawString') this.unexpected(t, context);
    return unquote(t, (m) => this.error(t.line, m));
  }

  private templateControl(line: number): TemplateNode {
    const name = this.templateName('template clause');
    if (this.peekNonSpace().type === 'rightDelim') {
      this.nextNonSpace();
      return { type: 'template', line, name };
    }
    return { type: 'template', line, name, pipe: this.pipeline('template clause', 'rightDelim') };
  }

  /** `{{block "name" pipeline}} body {{end}}` = define the body and execute it in place. */
  private blockControl(line: number): TemplateNode {
    const name = this.templateName('block clause');
    const pipe = this.pipeline('block clause', 'rightDelim');
    const savedVars = this.vars;
    const savedRange = this.rangeDepth;
    this.vars = ['$'];
    this.rangeDepth = 0;
    const [list, end] = this.itemList();
    if (end.type !== 'end') this.error(end.line, 'unexpected {{else}} in block clause');
    this.vars = savedVars;
    this.rangeDepth = savedRange;
    this.trees.push({ name, file: this.name, root: list });
    return { type: 'template', line, name, pipe };
  }

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): Pipe {
    const pipe: Pipe = { line: this.peekNonSpace().line, decl: [], isAssign: false, cmds: [] };
    // Declarations: `$x :=`, `$x =`, and in range `$i, $v :=`.
    decls: for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== 'variable') break;
      const save = this.pos;
      this.nextNonSpace();
      const after = this.peekNonSpace();
      if (after.type === 'declare' || after.type === 'assign') {
        this.nextNonSpace();
        pipe.isAssign = after.type === 'assign';
        pipe.decl.push(v.value);
        if (!pipe.isAssign) this.vars.push(v.value);
        else if (!this.vars.includes(v.value)) this.error(v.line, `undefined variable "${v.value}"`);
        break;
      }
      if (after.type === 'comma') {
        if (context !== 'range' || pipe.decl.length > 0) this.error(after.line, `too many declarations in ${context}`);
        this.nextNonSpace();
        pipe.decl.push(v.value);
        this.vars.push(v.value);
        const second = this.peekNonSpace();
        if (second.type !== 'variable') this.error(second.line, `range can only initialize variables`);
        continue decls;
      }
      if (pipe.decl.length > 0) this.error(after.line, `missing := after range variables`);
      this.pos = save;
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.type === end) {
        this.checkPipeline(pipe, context, t.line);
        return pipe;
      }
      switch (t.type) {
        case 'bool':
        case 'char':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.pos--;
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  private checkPipeline(pipe: Pipe, context: string, line: number): void {
    if (pipe.cmds.length === 0) this.error(line, `missing value for ${context}`);
    pipe.cmds.slice(1).forEach((cmd, i) => {
      const first = cmd.args[0]!;
      if (['bool', 'dot', 'nil', 'number', 'string'].includes(first.type)) {
        this.error(cmd.line, `non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): Command {
    const cmd: Command = { line: this.peekNonSpace().line, args: [] };
    for (;;) {
      this.peekNonSpace();
      while (this.peek().type === 'space') this.next();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.next();
      if (t.type === 'space') continue;
      if (t.type === 'rightDelim' || t.type === 'rightParen') this.pos--;
      else if (t.type !== 'pipe') this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.error(cmd.line, 'empty command');
    return cmd;
  }

  private operand(): Arg | undefined {
    const node = this.term();
    if (!node) return undefined;
    if (this.peek().type !== 'field') return node;
    const idents: string[] = [];
    while (this.peek().type === 'field') idents.push(this.next().value.slice(1));
    switch (node.type) {
      case 'field':
        return { type: 'field', idents: [...node.idents, ...idents] };
      case 'variable':
        return { type: 'variable', name: node.name, idents: [...node.idents, ...idents] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        this.error(this.peek().line, `unexpected . after term ${JSON.stringify(argString(node))}`);
      // falls through: error() never returns
      default:
        return { type: 'chain', node, idents };
    }
  }

  private term(): Arg | undefined {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'identifier':
        if (!this.hasFunction(t.value)) this.error(t.line, `function "${t.value}" not defined`);
        return { type: 'identifier', name: t.value };
      case 'dot':
        return { type: 'dot' };
      case 'nil':
        return { type: 'nil' };
      case 'variable':
        if (!this.vars.includes(t.value)) this.error(t.line, `undefined variable "${t.value}"`);
        return { type: 'variable', name: t.value, idents: [] };
      case 'field':
        return { type: 'field', idents: [t.value.slice(1)] };
      case 'bool':
        return { type: 'bool', value: t.value === 'true' };
      case 'char':
      case 'number':
        return { type: 'number', value: parseNumber(t, (m) => this.error(t.line, m)), text: t.value };
      case 'leftParen':
        return { type: 'pipe', pipe: this.pipeline('parenthesized pipeline', 'rightParen') };
      case 'string':
      case 'rawString':
        return { type: 'string', value: unquote(t, (m) => this.error(t.line, m)), text: t.value };
      default:
        this.pos--;
        return undefined;
    }
  }
}

function describe(t: Token): string {
  switch (t.type) {
    case 'rightDelim':
      return '"}}"';
    case 'leftDelim':
      return '"{{"';
    case 'keyword':
      return `<${t.value}>`;
    case 'text':
      return JSON.stringify(t.value.length > 10 ? `${t.value.slice(0, 10)}...` : t.value);
    default:
      return JSON.stringify(t.value);
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };

/** Go's strconv.Unquote for the three literal forms the lexer hands over. */
function unquote(t: Token, fail: (message: string) => never): string {
  const raw = t.value;
  if (t.type === 'rawString') return raw.slice(1, -1).replaceAll('\r', '');
  const quote = raw[0]!;
  let out = '';
  const body = raw.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) fail(`invalid syntax: ${raw}`);
    if (e in SIMPLE_ESCAPES && !(e === "'" && quote === '"') && !(e === '"' && quote === "'")) {
      out += SIMPLE_ESCAPES[e];
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) fail(`invalid syntax: ${raw}`);
      out += String.fromCodePoint(parseInt(hex, 16));
      i += n;
    } else if (e >= '0' && e <= '7') {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) fail(`invalid syntax: ${raw}`);
      out += String.fromCharCode(parseInt(oct, 8));
      i += 2;
    } else {
      fail(`invalid syntax: ${raw}`);
    }
  }
  return out;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * A numeric literal: Go gives integers (also char constants and hex/octal/binary forms) type int
 * and decimal forms with `.`, `e` or `p` type float64.
 */
function parseNumber(t: Token, fail: (message: string) => never): bigint | number {
  if (t.type === 'char') {
    const s = unquote(t, fail);
    const cp = s.codePointAt(0);
    if (cp === undefined || String.fromCodePoint(cp) !== s) fail(`malformed character constant: ${t.value}`);
    return BigInt(cp);
  }
  const text = t.value.replaceAll('_', '');
  const negative = text.startsWith('-');
  const unsigned = text.replace(/^[+-]/, '');
  const isPrefixed = /^0[xXoObB]/.test(unsigned);
  if (!isPrefixed && /[.eE]/.test(unsigned)) {
    const f = Number(unsigned);
    if (!Number.isFinite(f) || !/\d/.test(unsigned)) fail(`bad number syntax: "${t.value}"`);
    return negative ? -f : f;
  }
  let n: bigint;
  try {
    if (!/^[0-9]/.test(unsigned)) throw new Error('not a number');
    n = BigInt(/^0[0-7]+$/.test(unsigned) ? `0o${unsigned.slice(1)}` : unsigned);
  } catch {
    fail(`bad number syntax: "${t.value}"`);
  }
  if (negative) n = -n;
  if (n < INT64_MIN || n > INT64_MAX) fail(`integer overflow: "${t.value}"`);
  return n;
}

/** The source form of an argument, for error messages (`at <.Values.x>`). */
export function argString(a: Arg): string {
  switch (a.type) {
    case 'field':
      return a.idents.map((i) => `.${i}`).join('');
    case 'variable':
      return a.name + a.idents.map((i) => `.${i}`).join('');
    case 'chain':
      return argString(a.node) + a.idents.map((i) => `.${i}`).join('');
    case 'identifier':
      return a.name;
    case 'pipe':
      return `(${pipeString(a.pipe)})`;
    case 'string':
    case 'number':
      return a.text;
    case 'bool':
      return String(a.value);
    case 'nil':
      return 'nil';
    case 'dot':
      return '.';
  }
}

export function commandString(c: Command): string {
  return c.args.map(argString).join(' ');
}

function pipeString(p: Pipe): string {
  const decl = p.decl.length ? `${p.decl.join(', ')} ${p.isAssign ? '=' : ':='} ` : '';
  return decl + p.cmds.map(commandString).join(' | ');
}
