/**
 * Just enough of Python's syntax to read argument declarations statically: a tokenizer with
 * logical lines, and an expression parser for literals, names, calls, subscripts and the
 * operators that appear in defaults. We never run SGLang's or vLLM's code (it imports torch);
 * what cannot be evaluated keeps its source text.
 */

export type PyTokenKind = 'name' | 'number' | 'string' | 'op' | 'newline' | 'end';

export interface PyToken {
  kind: PyTokenKind;
  text: string;
  /** decoded value for strings (f-strings keep their template) */
  value?: string;
  fstring?: boolean;
  start: number;
  end: number;
  /** 1-based source line */
  line: number;
  /** column of the first token of the logical line this token belongs to */
  indent: number;
}

export class PySyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'PySyntaxError';
  }
}

const OPERATORS = ['**=', '//=', '>>=', '<<=', '...', '->', ':=', '**', '//', '==', '!=', '<=', '>=', '<<', '>>', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '@='];

export function tokenize(src: string, file = '<source>'): PyToken[] {
  const out: PyToken[] = [];
  let i = 0;
  let line = 1;
  let depth = 0;
  const openedAt: number[] = [];
  let lineStart = true;
  let indent = 0;
  let col = 0;
  const push = (t: Omit<PyToken, 'line' | 'indent'>, tokLine: number) => {
    if (lineStart) {
      indent = col;
      lineStart = false;
    }
    out.push({ ...t, line: tokLine, indent });
  };
  while (i < src.length) {
    const c = src[i];
    if (c === '\n') {
      if (depth === 0 && !lineStart) {
        out.push({ kind: 'newline', text: '\n', start: i, end: i + 1, line, indent });
        lineStart = true;
      }
      line++;
      i++;
      col = 0;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      col += c === '\t' ? 8 - (col % 8) : 1;
      i++;
      continue;
    }
    if (c === '\\' && src[i + 1] === '\n') {
      i += 2;
      line++;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const strMatch = /^([rRbBuUfF]{0,2})('''|"""|'|")/.exec(src.slice(i, i + 5));
    if (strMatch && (strMatch[1] === '' || /^[A-Za-z]+$/.test(strMatch[1]))) {
      const prefix = strMatch[1].toLowerCase();
      const quote = strMatch[2];
      const tokLine = line;
      let j = i + strMatch[0].length;
      let body = '';
      for (;;) {
        if (j >= src.length) throw new PySyntaxError(file, tokLine, 'unterminated string');
        if (src.startsWith(quote, j)) break;
        const ch = src[j];
        if (ch === '\n') {
          if (quote.length === 1) throw new PySyntaxError(file, tokLine, 'unterminated string');
          line++;
        }
        if (ch === '\\' && j + 1 < src.length) {
          if (src[j + 1] === '\n') line++;
          body += src.slice(j, j + 2);
          j += 2;
          continue;
        }
        body += ch;
        j++;
      }
      j += quote.length;
      const raw = prefix.includes('r');
      push({ kind: 'string', text: src.slice(i, j), value: raw ? body : unescape(body), fstring: prefix.includes('f'), start: i, end: j }, tokLine);
      col += j - i;
      i = j;
      continue;
    }
    const num = /^(?:0[xXoObB][0-9a-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?j?)/.exec(src.slice(i, i + 40));
    if (num && /[\d.]/.test(c) && num[0] !== '.') {
      push({ kind: 'number', text: num[0], start: i, end: i + num[0].length }, line);
      i += num[0].length;
      col += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_\u00c0-\uffff][\w\u00c0-\uffff]*/.exec(src.slice(i, i + 200));
    if (name) {
      push({ kind: 'name', text: name[0], start: i, end: i + name[0].length }, line);
      i += name[0].length;
      col += name[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i)) ?? c;
    if ('([{'.includes(op)) {
      depth++;
      openedAt.push(line);
    }
    if (')]}'.includes(op)) {
      if (depth === 0) throw new PySyntaxError(file, line, `unmatched "${op}"`);
      depth--;
      openedAt.pop();
    }
    push({ kind: 'op', text: op, start: i, end: i + op.length }, line);
    i += op.length;
    col += op.length;
  }
  if (depth > 0) throw new PySyntaxError(file, openedAt[openedAt.length - 1], 'this bracket is never closed');
  if (!lineStart) out.push({ kind: 'newline', text: '\n', start: i, end: i, line, indent });
  out.push({ kind: 'end', text: '', start: i, end: i, line, indent: 0 });
  return out;
}

function unescape(body: string): string {
  return body.replace(/\\(\n|[\\'"abfnrtv]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})/g, (_, e: string) => {
    switch (e[0]) {
      case '\n':
        return '';
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'a':
      case 'b':
      case 'f':
      case 'v':
        return ' ';
      case 'x':
      case 'u':
        return String.fromCharCode(parseInt(e.slice(1), 16));
      default:
        return e;
    }
  });
}

export type PyExpr =
  | { kind: 'str'; value: string; fstring: boolean; raw: string; line: number }
  | { kind: 'num'; value: number; raw: string; line: number }
  | { kind: 'name'; name: string; raw: string; line: number }
  | { kind: 'attr'; object: PyExpr; attr: string; raw: string; line: number }
  | { kind: 'call'; func: PyExpr; args: PyExpr[]; kwargs: Array<{ name: string; value: PyExpr }>; raw: string; line: number }
  | { kind: 'subscript'; object: PyExpr; items: PyExpr[]; raw: string; line: number }
  | { kind: 'list'; items: PyExpr[]; brackets: '[' | '(' | '{'; raw: string; line: number }
  | { kind: 'dict'; raw: string; line: number }
  | { kind: 'unary'; op: string; operand: PyExpr; raw: string; line: number }
  | { kind: 'binop'; op: string; left: PyExpr; right: PyExpr; raw: string; line: number }
  /** anything else (lambda, comprehension, conditional): kept as text */
  | { kind: 'other'; raw: string; line: number };

const BINARY = new Set(['+', '-', '*', '/', '//', '%', '**', '|', '&', '^', '<<', '>>', '@', '==', '!=', '<', '>', '<=', '>=', 'and', 'or', 'in', 'is', 'not', 'if', 'else']);

/** Expression parser over a token array. `pos` advances past what it reads. */
export class PyParser {
  pos = 0;
  constructor(
    readonly tokens: PyToken[],
    readonly src: string,
    readonly file = '<source>',
  ) {}

  peek(offset = 0): PyToken {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)];
  }

  next(): PyToken {
    const t = this.peek();
    if (t.kind !== 'end') this.pos++;
    return t;
  }

  isOp(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'op' && t.text === text;
  }

  expectOp(text: string): PyToken {
    const t = this.next();
    if (t.kind !== 'op' || t.text !== text) throw new PySyntaxError(this.file, t.line, `expected "${text}", found ${JSON.stringify(t.text || 'end of file')}`);
    return t;
  }

  /** one expression up to a top-level ',', ')', ']', '}', ':', '=' or end of line */
  expr(): PyExpr {
    const start = this.peek();
    if (start.kind === 'name' && start.text === 'lambda') {
      // lambda args: body — skip to the lambda's own ':' and read the body
      while (!this.isOp(':') && this.peek().kind !== 'end') this.next();
      this.next();
      this.expr();
      return this.mark({ kind: 'other', raw: this.src.slice(start.start, this.tokens[this.pos - 1].end), line: start.line }, start.start);
    }
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      const op = t.kind === 'op' || t.kind === 'name' ? t.text : '';
      if (!BINARY.has(op)) break;
      if (t.kind === 'name' && !['and', 'or', 'in', 'is', 'not', 'if', 'else'].includes(op)) break;
      this.next();
      if (op === 'not' && this.peek().text === 'in') this.next();
      if (op === 'is' && this.peek().text === 'not') this.next();
      if (op === 'for') return this.skipToTerminator(start);
      const right = this.unary();
      left = this.mark({ kind: 'binop', op, left, right, raw: this.src.slice(start.start, this.tokens[this.pos - 1].end), line: start.line }, start.start);
    }
    if (this.peek().kind === 'name' && this.peek().text === 'for') return this.skipToTerminator(start);
    return left;
  }

  private skipToTerminator(start: PyToken): PyExpr {
    let depth = 0;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'end' || (t.kind === 'newline' && depth === 0)) break;
      if (t.kind === 'op') {
        if ('([{'.includes(t.text)) depth++;
        else if (')]}'.includes(t.text)) {
          if (depth === 0) break;
          depth--;
        } else if (depth === 0 && (t.text === ',' || t.text === ':' || t.text === '=')) break;
      }
      this.next();
    }
    return { kind: 'other', raw: this.src.slice(start.start, this.tokens[this.pos - 1]?.end ?? start.end), line: start.line };
  }

  private unary(): PyExpr {
    const t = this.peek();
    if ((t.kind === 'op' && (t.text === '-' || t.text === '+' || t.text === '~' || t.text === '*' || t.text === '**')) || (t.kind === 'name' && t.text === 'not')) {
      this.next();
      const operand = this.unary();
      return this.mark({ kind: 'unary', op: t.text, operand, raw: this.src.slice(t.start, this.tokens[this.pos - 1].end), line: t.line }, t.start);
    }
    return this.postfix(this.atom());
  }

  private postfix(base: PyExpr): PyExpr {
    let e = base;
    for (;;) {
      const rawStart = this.rawStart(e);
      if (this.isOp('.')) {
        this.next();
        const name = this.next();
        e = this.mark({ kind: 'attr', object: e, attr: name.text, raw: this.src.slice(rawStart, name.end), line: e.line }, rawStart);
      } else if (this.isOp('(')) {
        this.next();
        const args: PyExpr[] = [];
        const kwargs: Array<{ name: string; value: PyExpr }> = [];
        while (!this.isOp(')')) {
          if (this.peek().kind === 'name' && this.isOp('=', 1)) {
            const name = this.next().text;
            this.next();
            kwargs.push({ name, value: this.expr() });
          } else if (this.isOp('**')) {
            this.next();
            kwargs.push({ name: '**', value: this.expr() });
          } else {
            args.push(this.expr());
          }
          if (this.isOp(',')) this.next();
          else if (!this.isOp(')')) throw new PySyntaxError(this.file, this.peek().line, `expected "," or ")" in a call, found ${JSON.stringify(this.peek().text)}`);
        }
        const close = this.next();
        e = this.mark({ kind: 'call', func: e, args, kwargs, raw: this.src.slice(rawStart, close.end), line: e.line }, rawStart);
      } else if (this.isOp('[')) {
        this.next();
        const items: PyExpr[] = [];
        while (!this.isOp(']')) {
          items.push(this.isOp(':') ? { kind: 'other', raw: ':', line: this.peek().line } : this.expr());
          if (this.isOp(',') || this.isOp(':')) this.next();
          else if (!this.isOp(']')) throw new PySyntaxError(this.file, this.peek().line, `expected "," or "]" in a subscript, found ${JSON.stringify(this.peek().text)}`);
        }
        const close = this.next();
        e = this.mark({ kind: 'subscript', object: e, items, raw: this.src.slice(rawStart, close.end), line: e.line }, rawStart);
      } else {
        return e;
      }
    }
  }

  private starts = new WeakMap<PyExpr, number>();

  private rawStart(e: PyExpr): number {
    return this.starts.get(e) ?? 0;
  }

  private mark<T extends PyExpr>(e: T, start: number): T {
    this.starts.set(e, start);
    return e;
  }

  private atom(): PyExpr {
    const t = this.next();
    if (t.kind === 'string') {
      let value = t.value ?? '';
      let fstring = t.fstring ?? false;
      let end = t.end;
      // adjacent literals concatenate
      while (this.peek().kind === 'string') {
        const s = this.next();
        value += s.value ?? '';
        fstring ||= s.fstring ?? false;
        end = s.end;
      }
      return this.mark({ kind: 'str', value, fstring, raw: this.src.slice(t.start, end), line: t.line }, t.start);
    }
    if (t.kind === 'number') {
      const n = Number(t.text.replace(/_/g, ''));
      return this.mark({ kind: 'num', value: n, raw: t.text, line: t.line }, t.start);
    }
    if (t.kind === 'name') return this.mark({ kind: 'name', name: t.text, raw: t.text, line: t.line }, t.start);
    if (t.kind === 'op' && (t.text === '(' || t.text === '[' || t.text === '{')) {
      const close = t.text === '(' ? ')' : t.text === '[' ? ']' : '}';
      const items: PyExpr[] = [];
      let isDict = false;
      while (!this.isOp(close)) {
        if (this.isOp('**')) {
          this.next();
          isDict = true;
        }
        const item = this.expr();
        if (this.peek().kind === 'name' && this.peek().text === 'for') {
          // comprehension: keep as text
          this.skipBalanced(close);
          const end = this.next();
          return this.mark({ kind: 'other', raw: this.src.slice(t.start, end.end), line: t.line }, t.start);
        }
        if (this.isOp(':')) {
          isDict = true;
          this.next();
          this.expr();
        } else {
          items.push(item);
        }
        if (this.isOp(',')) this.next();
        else if (!this.isOp(close)) throw new PySyntaxError(this.file, this.peek().line, `expected "," or "${close}", found ${JSON.stringify(this.peek().text || 'end of file')}`);
      }
      const end = this.next();
      const raw = this.src.slice(t.start, end.end);
      if (t.text === '(' && items.length === 1 && !raw.replace(/\s+/g, '').endsWith(',)')) return this.mark({ ...items[0], raw }, t.start);
      if (isDict || (t.text === '{' && raw.replace(/\s+/g, '') === '{}')) return this.mark({ kind: 'dict', raw, line: t.line }, t.start);
      return this.mark({ kind: 'list', items, brackets: t.text as '[' | '(' | '{', raw, line: t.line }, t.start);
    }
    if (t.kind === 'op' && t.text === '...') return this.mark({ kind: 'other', raw: '...', line: t.line }, t.start);
    throw new PySyntaxError(this.file, t.line, `unexpected ${JSON.stringify(t.text || 'end of file')} in an expression`);
  }

  private skipBalanced(close: string): void {
    let depth = 0;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'end') throw new PySyntaxError(this.file, t.line, `missing "${close}"`);
      if (t.kind === 'op' && '([{'.includes(t.text)) depth++;
      if (t.kind === 'op' && ')]}'.includes(t.text)) {
        if (depth === 0) return;
        depth--;
      }
      this.next();
    }
  }
}

/** Logical lines: [start, end) token index ranges, each ending before its newline token. */
export function logicalLines(tokens: PyToken[]): Array<{ start: number; end: number; indent: number; line: number }> {
  const lines: Array<{ start: number; end: number; indent: number; line: number }> = [];
  let start = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i].kind === 'newline' || tokens[i].kind === 'end') {
      if (i > start) lines.push({ start, end: i, indent: tokens[start].indent, line: tokens[start].line });
      start = i + 1;
    }
  }
  return lines;
}
