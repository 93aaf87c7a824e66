/**
 * Typed errors. Each carries where it happened (cell, line, node) and what to do next; the one
 * place that turns them into user messages is `describeError` (used by the controller and CLI).
 */
export interface ErrorLocation {
  cell?: string;
  /** 1-based line inside the cell source or file */
  line?: number;
  /** 1-based column */
  column?: number;
  node?: string;
  file?: string;
  /** dotted path of the spec field, e.g. "decode.parallel.tp" */
  field?: string;
}

export class MoeBenchError extends Error {
  constructor(
    message: string,
    readonly where: ErrorLocation = {},
    /** one sentence: what the user should do next */
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class NotebookFormatError extends MoeBenchError {}
export class SpecValidationError extends MoeBenchError {
  constructor(
    message: string,
    where: ErrorLocation,
    hint?: string,
    /** every problem found, not only the first */
    readonly issues: { message: string; where: ErrorLocation; severity?: 'error' | 'warning' }[] = [],
  ) {
    super(message, where, hint);
  }
}
export class CellReferenceError extends MoeBenchError {}
export class WorkspaceUntrustedError extends MoeBenchError {}
export class CancelledError extends MoeBenchError {
  constructor(message = 'Cancelled') {
    super(message);
  }
}
export class CommandFailedError extends MoeBenchError {}
export class UnsafeInputError extends MoeBenchError {}

export function formatLocation(where: ErrorLocation): string {
  const parts: string[] = [];
  if (where.file) parts.push(where.file);
  if (where.cell) parts.push(`cell "${where.cell}"`);
  if (where.line !== undefined) parts.push(`line ${where.line}${where.column !== undefined ? `, column ${where.column}` : ''}`);
  if (where.field) parts.push(`field ${where.field}`);
  if (where.node) parts.push(`node ${where.node}`);
  return parts.join(', ');
}

/** One-paragraph description for logs and the CLI. */
export function describeError(err: unknown): { title: string; location: string; hint?: string; detail?: string } {
  if (err instanceof MoeBenchError) {
    return { title: err.message, location: formatLocation(err.where), hint: err.hint };
  }
  if (err instanceof Error) return { title: err.message, location: '', detail: err.stack };
  return { title: String(err), location: '' };
}

export function isAbortError(err: unknown): boolean {
  return err instanceof CancelledError || (err instanceof Error && err.name === 'AbortError');
}
/** The validity gate failed a run (zero tokens, KV-transfer failures, aborts, token mismatch): its numbers are not a result. */
export class RunInvalidError extends MoeBenchError {}
/** The preflight doctor found errors (or, with failOn: mismatch, differences) on a cluster's nodes. */
export class DoctorFailedError extends MoeBenchError {}
