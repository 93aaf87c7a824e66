import { parseDocument } from 'yaml';
import type { CellContext, CellExecutor } from './cell';
import type { HostServices } from '../host';
import { parseShellHeader } from '../spec/shell-header';
import type { CellEventSink } from './events';
import type { Session } from './session';
import { CellReferenceError, MoeBenchError } from '../util/errors';

export interface RunnableCell {
  index: number;
  kind: 'code' | 'markdown';
  language: string;
  source: string;
}

/** A cell's name: `name:` in a YAML cell, `# name:` in a shell cell; undefined when it has none. */
export function cellName(cell: Pick<RunnableCell, 'language' | 'source'>): string | undefined {
  if (cell.language === 'shellscript') {
    try {
      return parseShellHeader(cell.source).name;
    } catch {
      return undefined;
    }
  }
  if (!cell.language.startsWith('moebench-')) return undefined;
  try {
    const doc = parseDocument(cell.source);
    const v: unknown = doc.toJS();
    if (v && typeof v === 'object' && 'name' in v && typeof (v as { name: unknown }).name === 'string') return (v as { name: string }).name;
  } catch {
    // a broken cell has no name yet; its own execution reports the YAML error
  }
  return undefined;
}

/** What a person sees as the cell's label in messages: its name, else its position. */
export function cellLabel(cell: Pick<RunnableCell, 'index' | 'language' | 'source'>): string {
  return cellName(cell) ?? `#${cell.index + 1} (${cell.language})`;
}

export interface RunCellDeps {
  session: Session;
  host: HostServices;
  executors: ReadonlyMap<string, CellExecutor>;
  emit: CellEventSink;
  signal: AbortSignal;
}

export async function runCell(cell: RunnableCell, deps: RunCellDeps): Promise<void> {
  if (cell.kind === 'markdown') return;
  const executor = deps.executors.get(cell.language);
  const label = cellLabel(cell);
  if (!executor) {
    throw new CellReferenceError(
      `Cells in language "${cell.language}" cannot be run`,
      { cell: label },
      `Change the cell language to one of: ${[...deps.executors.keys()].join(', ')}.`,
    );
  }
  const ctx: CellContext = {
    session: deps.session,
    cell: { index: cell.index, name: label, language: cell.language },
    emit: deps.emit,
    signal: deps.signal,
    host: deps.host,
  };
  try {
    await executor.execute(cell.source, ctx);
  } catch (err) {
    if (err instanceof MoeBenchError && !err.where.cell) {
      // every error names the cell it came from
      (err.where as { cell?: string }).cell = label;
    }
    throw err;
  }
}
