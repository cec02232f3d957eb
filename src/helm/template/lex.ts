/** Go text/template's lexer: splits a template into text and the tokens of its actions. */

export type TokenType =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'field'
  | 'variable'
  | 'identifier'
  | 'keyword'
  | 'bool'
  | 'nil'
  | 'dot'
  | 'string'
  | 'rawString'
  | 'char'
  | 'number'
  | 'pipe'
  | 'leftParen'
  | 'rightParen'
  | 'declare'
  | 'assign'
  | 'comma'
  | 'eof';

export interface Token {
  type: TokenType;
  /** source text of the token (trimmed text for `text`) */
  value: string;
  /** 1-based line where the token starts */
  line: number;
}

/** A lexical error: the parser turns it into a TemplateError naming the template. */
export class LexError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);

const LEFT = '{{';
const RIGHT = '}}';

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const ALNUM = /[\p{L}\p{Nd}_]/u;
const isAlphaNumeric = (c: string | undefined): boolean => c !== undefined && ALNUM.test(c);

function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** Tokenizes the whole template up front; throws LexError. */
export function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let trimNextText = false;

  const hasLeftTrim = (at: number): boolean => input[at] === '-' && isSpace(input[at + 1]);
  const atRightDelim = (at: number): { trim: boolean; length: number } | undefined => {
    if (isSpace(input[at]) && input[at + 1] === '-' && input.startsWith(RIGHT, at + 2)) {
      return { trim: true, length: 2 + RIGHT.length };
    }
    if (input.startsWith(RIGHT, at)) return { trim: false, length: RIGHT.length };
    return undefined;
  };

  while (pos <= input.length) {
    const open = input.indexOf(LEFT, pos);
    let text = input.slice(pos, open < 0 ? input.length : open);
    const textLine = line;
    line += countLines(text);
    if (trimNextText) {
      const trimmed = text.replace(/^[ \t\r\n]+/, '');
      text = trimmed;
    }
    if (open < 0) {
      if (text) tokens.push({ type: 'text', value: text, line: textLine });
      break;
    }
    const leftTrim = hasLeftTrim(open + LEFT.length);
    if (leftTrim) text = text.replace(/[ \t\r\n]+$/, '');
    if (text) tokens.push({ type: 'text', value: text, line: textLine });
    pos = open + LEFT.length + (leftTrim ? 2 : 0);

    if (input.startsWith('/*', pos)) {
      const end = input.indexOf('*/', pos + 2);
      if (end < 0) throw new LexError('unclosed comment', line);
      line += countLines(input.slice(pos, end));
      pos = end + 2;
      const delim = atRightDelim(pos);
      if (!delim) throw new LexError('comment ends before closing delimiter', line);
      pos += delim.length;
      trimNextText = delim.trim;
      continue;
    }

    const actionLine = line;
    tokens.push({ type: 'leftDelim', value: LEFT, line });
    let parenDepth = 0;
    for (;;) {
      const delim = atRightDelim(pos);
      if (delim) {
        if (parenDepth > 0) throw new LexError('unclosed left paren', line);
        tokens.push({ type: 'rightDelim', value: RIGHT, line });
        pos += delim.length;
        trimNextText = delim.trim;
        break;
      }
      const c = input[pos];
      const start = pos;
      const emit = (type: TokenType): void => {
        const value = input.slice(start, pos);
        tokens.push({ type, value, line });
        line += countLines(value);
      };
      /** Moves past a literal that opens and closes with `quote` and may hold backslash escapes. */
      const skipQuoted = (quote: string, unterminated: string): void => {
        pos++;
        for (;;) {
          const d = input[pos];
          if (d === '\\') {
            pos += 2;
            continue;
          }
          if (d === undefined || d === '\n') throw new LexError(unterminated, line);
          pos++;
          if (d === quote) break;
        }
      };
      if (c === undefined) throw new LexError('unclosed action', actionLine);
      if (isSpace(c)) {
        while (isSpace(input[pos]) && !atRightDelim(pos)) pos++;
        emit('space');
      } else if (c === '=') {
        pos++;
        emit('assign');
      } else if (c === ':') {
        if (input[pos + 1] !== '=') throw new LexError('expected :=', line);
        pos += 2;
        emit('declare');
      } else if (c === '|') {
        pos++;
        emit('pipe');
      } else if (c === ',') {
        pos++;
        emit('comma');
      } else if (c === '"') {
        skipQuoted('"', 'unterminated quoted string');
        emit('string');
      } else if (c === '`') {
        const end = input.indexOf('`', pos + 1);
        if (end < 0) throw new LexError('unterminated raw quoted string', line);
        pos = end + 1;
        emit('rawString');
      } else if (c === "'") {
        skipQuoted("'", 'unterminated character constant');
        emit('char');
      } else if (c === '$') {
        pos++;
        while (isAlphaNumeric(input[pos])) pos++;
        checkTerminator(pos);
        emit('variable');
      } else if (c === '.' && !(input[pos + 1] !== undefined && input[pos + 1]! >= '0' && input[pos + 1]! <= '9')) {
        pos++;
        while (isAlphaNumeric(input[pos])) pos++;
        checkTerminator(pos);
        emit(pos - start === 1 ? 'dot' : 'field');
      } else if (c === '.' || c === '+' || c === '-' || (c >= '0' && c <= '9')) {
        pos = scanNumber(pos);
        if (isAlphaNumeric(input[pos]) || input[pos] === '.') {
          throw new LexError(`bad number syntax: "${input.slice(start, pos + 1)}"`, line);
        }
        emit('number');
      } else if (isAlphaNumeric(c)) {
        while (isAlphaNumeric(input[pos])) pos++;
        checkTerminator(pos);
        const word = input.slice(start, pos);
        emit(KEYWORDS.has(word) ? 'keyword' : word === 'true' || word === 'false' ? 'bool' : word === 'nil' ? 'nil' : 'identifier');
      } else if (c === '(') {
        pos++;
        parenDepth++;
        emit('leftParen');
      } else if (c === ')') {
        pos++;
        parenDepth--;
        if (parenDepth < 0) throw new LexError('unexpected right paren', line);
        emit('rightParen');
      } else {
        throw new LexError(`unrecognized character in action: ${describeChar(c)}`, line);
      }
    }
  }
  tokens.push({ type: 'eof', value: '', line });
  return tokens;

  function checkTerminator(at: number): void {
    const c = input[at];
    if (c === undefined || isSpace(c) || '.,|:()='.includes(c) || atRightDelim(at)) return;
    throw new LexError(`bad character ${describeChar(c)}`, line);
  }

  function scanNumber(at: number): number {
    let p = at;
    const accept = (chars: string): boolean => {
      if (input[p] !== undefined && chars.includes(input[p]!)) {
        p++;
        return true;
      }
      return false;
    };
    const acceptRun = (chars: string): void => {
      while (input[p] !== undefined && chars.includes(input[p]!)) p++;
    };
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    return p;
  }
}

function describeChar(c: string): string {
  const code = c.codePointAt(0)!;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
}
