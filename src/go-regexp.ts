/**
 * Go (RE2) regular expressions compiled as JavaScript RegExps. Users write Go syntax where
 * oc-mirror reads patterns (blockedImages) and where charts use Sprig's regex functions; the
 * forms people actually write are translated here, once, and anything JavaScript would read
 * differently is refused rather than guessed at.
 *
 * Translated: leading flag groups `(?i)` `(?s)` `(?m)` (to JavaScript flags), `(?P<name>`,
 * `\A` and `\z`, escaped punctuation JavaScript does not allow escaping (`\:`, `\-` outside a
 * class), the ASCII classes (`[[:alpha:]]`), and the brackets Go reads as literal text (`a{`,
 * `}`, `]`, `[]a]`).
 * The pattern is compiled with the `u` flag: without it JavaScript silently reads unknown escapes
 * (`\Q`, `\pL`) as literal text, so a Go pattern would match something else instead of failing;
 * with it they are syntax errors, as they should be.
 */

export type GoRegExpCompilation = { regexp: RegExp } | { reason: string };

/** Leading `(?i)`, `(?s)`, `(?m)` (or combined, `(?is)`) become JavaScript flags. */
const LEADING_FLAGS_RE = /^\(\?([A-Za-z]+)\)/;
const FLAG_TRANSLATION: Readonly<Record<string, string>> = { i: 'i', m: 'm', s: 's' };

/** Characters that keep their backslash in `u` mode; Go also lets any other punctuation be escaped. */
const JS_UNICODE_ESCAPABLE = new Set('^$\\.*+?()[]{}|/-');
const ASCII_PUNCTUATION_RE = /^[!-/:-@[-`{-~ ]$/;

/** Go's text anchors, which JavaScript lacks; lookarounds keep their meaning under the `m` flag. */
const ANCHOR_TRANSLATION: Readonly<Record<string, string>> = { A: '(?<![\\s\\S])', z: '(?![\\s\\S])' };

function translateFlags(pattern: string): { body: string; flags: string } {
  let body = pattern;
  const flags = new Set<string>();
  for (let m = LEADING_FLAGS_RE.exec(body); m; m = LEADING_FLAGS_RE.exec(body)) {
    for (const flag of m[1]!) {
      const js = FLAG_TRANSLATION[flag];
      if (!js) throw new SyntaxError(`flag "${flag}" in "${m[0]}" has no JavaScript equivalent`);
      flags.add(js);
    }
    body = body.slice(m[0].length);
  }
  return { body, flags: [...flags].sort().join('') };
}

/** Go's ASCII classes, used inside brackets (`[[:alpha:]-]`), as JavaScript class members. */
const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`\\{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};
const POSIX_CLASS_RE = /^\[:(\^?[a-z]*):\]/;

function posixClassMembers(name: string): string {
  const members = Object.hasOwn(POSIX_CLASSES, name) ? POSIX_CLASSES[name] : undefined;
  if (!members) throw new SyntaxError(`character class "[:${name}:]" has no JavaScript equivalent`);
  return members;
}

/** `{2}`, `{2,}`, `{2,5}`: anything else after `{` is literal text in Go and a syntax error in JavaScript. */
const REPEAT_RE = /^\{[0-9]+(?:,[0-9]*)?\}/;

function translateBody(body: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && i + 1 < body.length) {
      const next = body[i + 1]!;
      i++;
      if (!inClass && ANCHOR_TRANSLATION[next]) out += ANCHOR_TRANSLATION[next];
      else if (ASCII_PUNCTUATION_RE.test(next) && !JS_UNICODE_ESCAPABLE.has(next)) out += next;
      else if (next === '-' && !inClass) out += '-';
      else out += `\\${next}`;
    } else if (inClass) {
      const posix = c === '[' ? POSIX_CLASS_RE.exec(body.slice(i)) : null;
      if (posix) {
        out += posixClassMembers(posix[1]!);
        i += posix[0].length - 1;
      } else {
        if (c === ']') inClass = false;
        out += c;
      }
    } else if (c === '[') {
      inClass = true;
      // Go reads a `]` right after `[` or `[^` as a member; JavaScript would close an empty class.
      const negated = body[i + 1] === '^';
      out += negated ? '[^' : '[';
      if (negated) i++;
      if (body[i + 1] === ']') {
        out += '\\]';
        i++;
      }
    } else if (c === '{') {
      const repeat = REPEAT_RE.exec(body.slice(i));
      out += repeat ? repeat[0] : '\\{';
      if (repeat) i += repeat[0].length - 1;
    } else if (c === '}' || c === ']') {
      out += `\\${c}`;
    } else if (body.startsWith('(?P<', i)) {
      // Go's named group `(?P<name>…)` is JavaScript's `(?<name>…)`.
      out += '(?<';
      i += 3;
    } else {
      out += c;
    }
  }
  return out;
}

/** "Invalid regular expression: /x(/u: Unterminated group" → "Unterminated group". */
function shortReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const m = /^Invalid regular expression: \/[\s\S]*\/[a-z]*: ([^:]*)$/.exec(message);
  return m ? m[1]! : message;
}

/** Compiles a Go pattern (with extra JavaScript flags such as `g`), or says why it does not compile. */
export function tryCompileGoRegExp(pattern: string, extraFlags = ''): GoRegExpCompilation {
  try {
    const { body, flags } = translateFlags(pattern);
    const all = [...new Set([...flags, ...extraFlags, 'u'])].sort().join('');
    return { regexp: new RegExp(translateBody(body), all) };
  } catch (err) {
    return { reason: shortReason(err) };
  }
}
