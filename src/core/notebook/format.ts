/**
 * The .moebench file format.
 *
 * JSON, like .ipynb, rather than YAML: cell bodies are themselves YAML, and YAML block scalars
 * inside YAML make indentation errors in a cell corrupt the whole file; JSON with each source
 * line as one array element diffs line by line, round-trips byte for byte, and parses with exact
 * error positions. Keys are sorted, indent is 1 space (as nbformat), and the file ends in "\n".
 *
 * {
 *  "cells": [ { "kind": "code", "language": "moebench-bench", "metadata": {}, "outputs": [...],
 *              "execution": {...}, "source": ["name: x", "target: y"] } ],
 *  "format": "moebench-notebook",
 *  "metadata": {},
 *  "version": 1
 * }
 */
import { findNodeAtLocation, parse as parseJsonc, parseTree, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { z } from 'zod';
import { NotebookFormatError } from '../util/errors';
import { redactSecretsDeep } from '../util/redact';
import { isJsonMime, STORED_MIMES, storedMarkdown, TRANSIENT_MIMES, type Notebook, type NotebookCell, type NotebookOutput } from './model';
import { starterNotebook } from './starter';

export const FORMAT_NAME = 'moebench-notebook';
export const FORMAT_VERSION = 1;

const outputItemSchema = z.object({ mime: z.string().min(1), data: z.unknown() }).strict();
const outputSchema = z.object({ items: z.array(outputItemSchema), metadata: z.record(z.string(), z.unknown()).optional() }).strict();
const cellSchema = z
  .object({
    kind: z.enum(['code', 'markdown']),
    language: z.string().min(1),
    source: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()).optional(),
    outputs: z.array(outputSchema).optional(),
    execution: z
      .object({ order: z.number().int().optional(), success: z.boolean().optional(), startMs: z.number().optional(), endMs: z.number().optional() })
      .strict()
      .optional(),
  })
  .strict();
const fileSchema = z
  .object({
    format: z.literal(FORMAT_NAME),
    version: z.literal(FORMAT_VERSION),
    metadata: z.record(z.string(), z.unknown()),
    cells: z.array(cellSchema),
  })
  .strict();

type RawFile = Record<string, unknown>;

/**
 * Older versions are upgraded in order; each step takes the raw JSON of version N to N+1.
 * Version 0 is the pre-release draft: no "format"/"version" keys, sources as one string.
 */
const MIGRATIONS: Record<number, (raw: RawFile) => RawFile> = {
  0: (raw) => ({
    format: FORMAT_NAME,
    version: 1,
    metadata: raw.metadata ?? {},
    cells: Array.isArray(raw.cells)
      ? raw.cells.map((c: unknown) => {
          if (!c || typeof c !== 'object') return c;
          const cell = { ...(c as RawFile) };
          if (typeof cell.source === 'string') cell.source = cell.source.split('\n');
          return cell;
        })
      : raw.cells,
  }),
};

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lastNl = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lastNl = i;
    }
  }
  return { line, column: offset - lastNl };
}

/**
 * The file's bytes as text. Invalid UTF-8 is an error naming its place, not silently replaced by
 * U+FFFD: the editor would write the replacement back on save and lose the original bytes.
 */
export function decodeNotebookBytes(bytes: Uint8Array, file = '<notebook>'): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    const before = new TextDecoder('utf-8').decode(bytes.subarray(0, offset));
    const { line, column } = lineColumn(before, before.length);
    throw new NotebookFormatError(
      `Not a valid MoE Bench notebook: the file is not valid UTF-8 (byte ${offset}) at line ${line}, column ${column}`,
      { file, line, column },
      'The file is left untouched. It may be another file type, or was saved in another encoding: re-save it as UTF-8.',
    );
  }
}

/** Parse a notebook file's bytes (decodeNotebookBytes, then parseNotebook). */
export function parseNotebookBytes(bytes: Uint8Array, file = '<notebook>'): Notebook {
  return parseNotebook(decodeNotebookBytes(bytes, file), file);
}

/** offset of the first byte that does not start or continue a valid UTF-8 sequence */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0 || (n > 0 && i + n >= b.length)) return i;
    for (let k = 1; k <= n; k++) if ((b[i + k] & 0xc0) !== 0x80) return i;
    // overlongs, surrogates and values past U+10FFFF
    if ((c === 0xe0 && b[i + 1] < 0xa0) || (c === 0xed && b[i + 1] > 0x9f) || (c === 0xf0 && b[i + 1] < 0x90) || (c === 0xf4 && b[i + 1] > 0x8f)) return i;
    i += n + 1;
  }
  return b.length;
}

/** Parse file text. Throws NotebookFormatError with line/column; never returns an empty notebook for bad input. */
export function parseNotebook(text: string, file = '<notebook>'): Notebook {
  if (text.trim() === '') return starterNotebook();
  checkNesting(text, file);
  const errors: ParseError[] = [];
  const raw: unknown = parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length) {
    const e = errors[0];
    const { line, column } = lineColumn(text, e.offset);
    const code = printParseErrorCode(e.error);
    const truncated = code.startsWith('UnexpectedEndOf') || e.offset >= text.trimEnd().length - 1;
    throw new NotebookFormatError(
      `Not a valid MoE Bench notebook: ${truncated ? 'the file ends too early (truncated?)' : humanJsonError(code)} at line ${line}, column ${column}`,
      { file, line, column },
      'The file is left untouched. Open it in the text editor to repair it (a truncated copy or a merge conflict is the usual cause).',
    );
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new NotebookFormatError('Not a valid MoE Bench notebook: the top level must be a JSON object', { file, line: 1, column: 1 }, 'Open it in the text editor to repair it.');
  }
  let doc = raw as RawFile;
  const version = doc.version === undefined && doc.format === undefined ? 0 : doc.version;
  if (typeof version !== 'number' || !Number.isInteger(version)) {
    throw positioned(text, file, ['version'], '"version" must be an integer');
  }
  if (version > FORMAT_VERSION) {
    throw new NotebookFormatError(
      `This notebook was written by a newer MoE Bench (format version ${version}; this one reads up to ${FORMAT_VERSION})`,
      { file, ...lineColumn(text, findNodeAtLocation(parseTree(text) ?? emptyTree(), ['version'])?.offset ?? 0) },
      'Update the MoE Bench extension to open it. The file has not been changed.',
    );
  }
  for (let v = version; v < FORMAT_VERSION; v++) {
    const step = MIGRATIONS[v];
    if (!step) throw new NotebookFormatError(`No migration from notebook format version ${v}`, { file }, 'Open it in the text editor.');
    doc = step(doc);
  }
  const result = fileSchema.safeParse(doc);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue.path.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number');
    throw positioned(text, file, version === FORMAT_VERSION ? path : [], `${path.length ? path.join('.') + ': ' : ''}${issue.message}`);
  }
  return {
    metadata: result.data.metadata,
    cells: result.data.cells.map((c) => ({
      kind: c.kind,
      language: c.language,
      source: c.source.join('\n'),
      metadata: c.metadata,
      outputs: storedOutputs(c.outputs),
      execution: c.execution,
    })),
  };
}

/** deeper than any notebook needs; the JSON parser recurses per level and would overflow the stack */
const MAX_NESTING = 256;

/** Refuses absurd nesting before the (recursive) parser sees it, naming where it went too deep. */
function checkNesting(text: string, file: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > MAX_NESTING) {
        const { line, column } = lineColumn(text, i);
        throw new NotebookFormatError(`Not a valid MoE Bench notebook: values are nested more than ${MAX_NESTING} levels deep at line ${line}, column ${column}`, { file, line, column }, 'The file is left untouched. Open it in the text editor to repair it.');
      }
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
}

function humanJsonError(code: string): string {
  // jsonc-parser codes are CamelCase ("CommaExpected"); make them a phrase
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

function emptyTree(): NonNullable<ReturnType<typeof parseTree>> {
  return { type: 'object', offset: 0, length: 0 };
}

function positioned(text: string, file: string, path: (string | number)[], message: string): NotebookFormatError {
  const tree = parseTree(text);
  let node = tree ? findNodeAtLocation(tree, path) : undefined;
  // the deepest existing ancestor when the key itself is missing
  for (let n = path.length - 1; !node && n >= 0 && tree; n--) node = findNodeAtLocation(tree, path.slice(0, n));
  const { line, column } = lineColumn(text, node?.offset ?? 0);
  return new NotebookFormatError(`Not a valid MoE Bench notebook: ${message} (line ${line}, column ${column})`, { file, line, column }, 'The file is left untouched. Open it in the text editor to repair it.');
}

/** Stable JSON: sorted keys, 1-space indent, trailing newline. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  }, 1) + '\n';
}

/** Outputs read from a file: only the types we write; stored markdown without HTML or images. */
function storedOutputs(outputs: NotebookOutput[] | undefined): NotebookOutput[] | undefined {
  if (!outputs) return undefined;
  return outputs
    .map((o) => ({ ...o, items: o.items.filter((i) => STORED_MIMES.has(i.mime)).map((i) => (i.mime === 'text/markdown' && typeof i.data === 'string' ? { mime: i.mime, data: storedMarkdown(i.data) } : i)) }))
    .filter((o) => o.items.length > 0);
}

function persistableOutputs(outputs: NotebookOutput[] | undefined): NotebookOutput[] | undefined {
  if (!outputs) return undefined;
  const kept = outputs
    .filter((o) => o.metadata?.transient !== true)
    .map((o) => ({ ...o, items: o.items.filter((i) => !TRANSIENT_MIMES.has(i.mime)).map((i) => ({ mime: i.mime, data: redactSecretsDeep(normaliseData(i.mime, i.data)) })) }))
    .filter((o) => o.items.length > 0);
  return kept;
}

function normaliseData(mime: string, data: unknown): unknown {
  if (isJsonMime(mime)) return data;
  return typeof data === 'string' ? data : String(data);
}

export function serializeNotebook(nb: Notebook): string {
  const cells = nb.cells.map((c: NotebookCell) => {
    const out: Record<string, unknown> = { kind: c.kind, language: c.language, source: c.source.split('\n') };
    if (c.metadata && Object.keys(c.metadata).length) out.metadata = c.metadata;
    const outputs = persistableOutputs(c.outputs);
    if (outputs && outputs.length) out.outputs = outputs;
    if (c.execution && Object.keys(c.execution).length) out.execution = c.execution;
    return out;
  });
  return canonicalJson({ format: FORMAT_NAME, version: FORMAT_VERSION, metadata: nb.metadata, cells });
}
