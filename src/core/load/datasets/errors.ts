import { MoeBenchError } from '../../util/errors';

/** A dataset file that cannot be used; names the file (and line when known). */
export class DatasetError extends MoeBenchError {
  constructor(message: string, file?: string, hint?: string, line?: number) {
    super(message, { file, line }, hint);
  }
}

/**
 * Why JSON.parse failed, without the text it quotes: Node's message repeats the file's first
 * bytes ("Unexpected token 'r', \"root:x:0:0:...\" is not valid JSON"), and a notebook can point a
 * dataset path at any file of the user's (a key, /etc/shadow); the error lands in the shared
 * notebook's output. Only the kind of failure and its position are kept.
 */
export function jsonFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const position = /at position (\d+)/.exec(message)?.[1];
  const lineCol = /\(line (\d+) column (\d+)\)/.exec(message);
  const where = lineCol ? ` at line ${lineCol[1]}, column ${lineCol[2]}` : position !== undefined ? ` at character ${position}` : '';
  if (/Unexpected end of JSON input/i.test(message)) return `the JSON ends too early${where}`;
  if (/Unexpected token|Unexpected non-whitespace/i.test(message)) return `unexpected character${where}`;
  return `malformed JSON${where}`;
}
