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
