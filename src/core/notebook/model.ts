/** The in-memory notebook, independent of VS Code's NotebookData (the serializer maps between them). */
export interface NotebookOutputItem {
  mime: string;
  /** JSON mimes hold parsed JSON; text mimes hold a string */
  data: unknown;
}

export interface NotebookOutput {
  items: NotebookOutputItem[];
  metadata?: Record<string, unknown>;
}

export interface CellExecutionSummary {
  order?: number;
  success?: boolean;
  startMs?: number;
  endMs?: number;
}

export interface NotebookCell {
  kind: 'code' | 'markdown';
  language: string;
  source: string;
  metadata?: Record<string, unknown>;
  outputs?: NotebookOutput[];
  execution?: CellExecutionSummary;
}

export interface Notebook {
  metadata: Record<string, unknown>;
  cells: NotebookCell[];
}

/** mimes VS Code uses for streamed logs; never persisted (logs live in the output channel and run store) */
export const TRANSIENT_MIMES: ReadonlySet<string> = new Set([
  'application/vnd.code.notebook.stdout',
  'application/vnd.code.notebook.stderr',
]);

export function isJsonMime(mime: string): boolean {
  return mime === 'application/json' || mime.endsWith('+json');
}

/**
 * The only output types a notebook keeps when it is read: the ones MoE Bench writes (its doc,
 * markdown error messages, plain text). VS Code renders text/html, JavaScript and SVG outputs
 * the moment a trusted notebook opens, with no cell run, so a stored output of any other type
 * from a shared file is dropped instead of rendered.
 */
export const STORED_MIMES: ReadonlySet<string> = new Set(['application/vnd.moebench.doc+json', 'text/markdown', 'text/plain']);

/**
 * Markdown we did not just write (it came from the file) loses raw HTML and images: VS Code's
 * markdown output would otherwise fetch an image URL as soon as the notebook opens.
 */
export function storedMarkdown(text: string): string {
  // what we write is already escaped (`\<`, `!\[`) and passes unchanged, so open + save keeps the bytes
  return text.replace(/(?<!\\)!\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/(?<!\\)</g, '\\<');
}
