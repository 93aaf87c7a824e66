import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { SpecValidationError, type ErrorLocation } from '../util/errors';

export type SpecPath = readonly (string | number)[];

export interface SpecIssue {
  message: string;
  path: SpecPath;
  severity: 'error' | 'warning';
  /** 0-based offsets into the cell source */
  range: { start: number; end: number };
  /** 1-based line/column of range.start */
  line: number;
  column: number;
}

/** A parsed YAML cell: the value, and a way to map a spec path back to its place in the source. */
export class YamlSource {
  readonly doc: Document.Parsed;
  private readonly lines = new LineCounter();

  constructor(readonly text: string) {
    // logLevel: problems reach the user as diagnostics, not as process warnings on stderr
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  }

  private evaluated: { value: unknown } | { error: Error } | undefined;

  /** the document as plain data; {} when it cannot be built (see `syntaxIssues`) */
  get value(): unknown {
    const v = this.evaluate();
    return 'value' in v ? v.value : {};
  }

  /**
   * Building the value can fail where parsing did not: an alias to an anchor never set, an alias
   * bomb (more than 100 alias expansions), nesting deep enough to exhaust the stack. Those are
   * errors in the cell, reported like syntax errors, never exceptions.
   */
  private evaluate(): { value: unknown } | { error: Error } {
    if (!this.evaluated) {
      try {
        this.evaluated = { value: this.doc.toJS({ maxAliasCount: 100 }) ?? {} };
      } catch (err) {
        this.evaluated = { error: err instanceof Error ? err : new Error(String(err)) };
      }
    }
    return this.evaluated;
  }

  /** syntax errors as issues (YAML typos: bad indentation, duplicate keys, tabs...) */
  syntaxIssues(): SpecIssue[] {
    const issues: SpecIssue[] = [...this.doc.errors, ...this.doc.warnings].map((e) => {
      const start = e.pos[0];
      const end = Math.max(e.pos[1], start + 1);
      const { line, col } = this.lines.linePos(start);
      return { message: e.message.split('\n')[0], path: [], severity: this.doc.errors.includes(e as never) ? 'error' : 'warning', range: { start, end }, line, column: col };
    });
    const v = this.evaluate();
    if ('error' in v) {
      const alias = /alias[^:]*: (\S+)/.exec(v.error.message)?.[1];
      const at = alias ? Math.max(0, this.text.indexOf(`*${alias}`)) : 0;
      const { line, col } = this.lines.linePos(at);
      const message = v.error instanceof RangeError ? 'the YAML is nested too deeply to read' : v.error.message.split('\n')[0];
      issues.push({ message, path: [], severity: 'error', range: { start: at, end: Math.min(this.text.length, at + 1 + (alias?.length ?? 0)) }, line, column: col });
    }
    return issues;
  }

  /**
   * Source range of the node at `path`; for a missing key, the closest existing parent.
   * `keyOnly` points at the key instead of the value (for "unknown key" messages).
   */
  rangeOf(path: SpecPath, keyOnly = false): { start: number; end: number; line: number; column: number } {
    let node: unknown = this.doc.contents;
    let best: [number, number] | undefined = rangeFrom(node);
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => scalarValue(p.key) === String(seg));
        if (!pair) break;
        const keyRange = rangeFrom(pair.key);
        const valueRange = rangeFrom(pair.value);
        best = keyOnly || !valueRange ? (keyRange ?? best) : valueRange;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) break;
        best = rangeFrom(item) ?? best;
        node = item;
      } else {
        break;
      }
    }
    const [start, end] = best ?? [0, Math.min(1, this.text.length)];
    const { line, col } = this.lines.linePos(start);
    return { start, end, line, column: col };
  }

  /** zod issues -> positioned SpecIssues */
  zodIssues(error: z.ZodError): SpecIssue[] {
    return error.issues.map((iss) => {
      const path = iss.path.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number');
      const unknownKeys = iss.code === 'unrecognized_keys' ? iss.keys : [];
      const target = unknownKeys.length ? [...path, unknownKeys[0]] : path;
      const r = this.rangeOf(target, unknownKeys.length > 0);
      const where = path.length ? `${path.join('.')}: ` : '';
      return { message: `${where}${iss.message}`, path: target, severity: 'error' as const, range: { start: r.start, end: r.end }, line: r.line, column: r.column };
    });
  }
}

function scalarValue(node: unknown): string | undefined {
  if (node && typeof node === 'object' && 'value' in node) return String((node as { value: unknown }).value);
  return undefined;
}

function rangeFrom(node: unknown): [number, number] | undefined {
  const r = (node as YamlNode | null | undefined)?.range;
  return r ? [r[0], r[1]] : undefined;
}

/**
 * Parse and validate a YAML cell against a zod schema. Throws one SpecValidationError listing
 * every problem with its line, so the user fixes all typos in one go.
 */
export function parseSpec<S extends z.ZodType>(schema: S, text: string, where: { cell?: string; kind: string }): { spec: z.output<S>; source: YamlSource } {
  const source = new YamlSource(text);
  const syntax = source.syntaxIssues().filter((i) => i.severity === 'error');
  if (syntax.length) throw issuesError(syntax, where);
  const result = schema.safeParse(source.value);
  if (!result.success) throw issuesError(source.zodIssues(result.error), where);
  return { spec: result.data, source };
}

export function issuesError(issues: SpecIssue[], where: { cell?: string; kind: string }): SpecValidationError {
  const first = issues[0];
  const loc = (i: SpecIssue): ErrorLocation => ({ cell: where.cell, line: i.line, column: i.column, field: i.path.join('.') || undefined });
  const message = issues.length === 1 ? `Invalid ${where.kind} cell: ${first.message}` : `Invalid ${where.kind} cell (${issues.length} problems): ${first.message}`;
  return new SpecValidationError(
    message,
    loc(first),
    'Fix the highlighted lines; hover a key in the cell for the allowed values.',
    issues.map((i) => ({ message: i.message, where: loc(i), severity: i.severity })),
  );
}
