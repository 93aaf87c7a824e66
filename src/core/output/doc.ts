/**
 * The renderer contract: every rich output a cell produces is an OutputDoc under one mime type.
 * A doc is plain JSON (so it persists in the notebook and re-draws offline) made of blocks the
 * renderer knows how to draw. Cells never ship HTML or code to the renderer.
 */
export const OUTPUT_MIME = 'application/vnd.moebench.doc+json';

export type BadgeLevel = 'ok' | 'info' | 'warn' | 'error';

export interface Badge {
  level: BadgeLevel;
  /** short label, e.g. "client saturated" */
  text: string;
  /** longer explanation shown on hover */
  detail?: string;
}

export interface TableBlock {
  type: 'table';
  title?: string;
  columns: string[];
  rows: (string | number | null)[][];
  /** optional per-column unit, shown in the header */
  units?: (string | null)[];
  /** the first N columns are the ones a reader needs; the renderer shows the rest behind a toggle */
  keyColumns?: number;
}

export interface KeyValueBlock {
  type: 'kv';
  title?: string;
  items: [string, string | number | null][];
}

export interface BadgesBlock {
  type: 'badges';
  items: Badge[];
}

/** A Plotly figure as JSON (data + layout). The renderer applies theme colours and loads Plotly lazily. */
export interface PlotBlock {
  type: 'plot';
  /** stable id inside the doc so live updates go through Plotly.react on the same element */
  id: string;
  title?: string;
  data: Record<string, unknown>[];
  layout?: Record<string, unknown>;
  heightPx?: number;
}

export interface TextBlock {
  type: 'text';
  /** plain text (pre-formatted) or markdown-lite (paragraphs, `code`, **bold**) */
  text: string;
  format?: 'plain' | 'pre';
}

export interface ProgressBlock {
  type: 'progress';
  label: string;
  /** 0..1, or null when indeterminate */
  fraction: number | null;
  detail?: string;
}

export type Block = TableBlock | KeyValueBlock | BadgesBlock | PlotBlock | TextBlock | ProgressBlock;

export interface OutputDoc {
  /** the doc's heading, e.g. "decode-2k — step 1/3" */
  title?: string;
  /** every result produced by the emulator is labelled simulated; the renderer shows a banner */
  simulated?: boolean;
  /** run ids this output summarises (raw data in .moebench/runs/<id>/) */
  runIds?: string[];
  blocks: Block[];
}
