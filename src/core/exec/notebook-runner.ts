import type { Notebook, NotebookOutput } from '../notebook/model';
import type { CellExecutor } from './cell';
import type { HostServices } from '../host';
import type { CellEvent } from './events';
import type { Session } from './session';
import { runCell, cellLabel, cellName } from './run-cell';
import { OUTPUT_MIME } from '../output/doc';
import { errorMarkdown } from '../output/error-markdown';
import { isAbortError } from '../util/errors';

export interface CellOutcome {
  index: number;
  label: string;
  state: 'succeeded' | 'failed' | 'cancelled' | 'skipped';
  error?: unknown;
  durationMs: number;
}

export interface NotebookRunOptions {
  session: Session;
  host: HostServices;
  executors: ReadonlyMap<string, CellExecutor>;
  signal: AbortSignal;
  /** run only the cells with these names (in notebook order); all code cells when absent */
  only?: string[];
  onCellStart?: (index: number, label: string) => void;
  onCellEvent?: (index: number, event: CellEvent) => void;
  onCellEnd?: (outcome: CellOutcome) => void;
}

/**
 * Headless "run all" (the CLI and tests): top to bottom, stop at the first failure, and write each
 * cell's persistable outputs and execution summary back into the notebook object.
 */
export async function runNotebook(nb: Notebook, options: NotebookRunOptions): Promise<CellOutcome[]> {
  const outcomes: CellOutcome[] = [];
  let order = 0;
  let stop = false;
  for (let index = 0; index < nb.cells.length; index++) {
    const cell = nb.cells[index];
    if (cell.kind !== 'code') continue;
    const label = cellLabel({ index, language: cell.language, source: cell.source });
    if (options.only && !options.only.includes(cellName(cell) ?? '')) continue;
    if (stop || options.signal.aborted) {
      outcomes.push({ index, label, state: 'skipped', durationMs: 0 });
      continue;
    }
    options.onCellStart?.(index, label);
    const docs = new Map<string, NotebookOutput>();
    const startMs = Date.now();
    let state: CellOutcome['state'] = 'succeeded';
    let error: unknown;
    try {
      await runCell(
        { index, kind: 'code', language: cell.language, source: cell.source },
        {
          ...options,
          emit: (ev) => {
            if (ev.kind === 'doc') {
              if (ev.persist === false) docs.delete(ev.id);
              else docs.set(ev.id, { items: [{ mime: OUTPUT_MIME, data: ev.doc }], metadata: { id: ev.id } });
            }
            options.onCellEvent?.(index, ev);
          },
        },
      );
    } catch (err) {
      state = isAbortError(err) || options.signal.aborted ? 'cancelled' : 'failed';
      error = err;
      stop = true;
    }
    const endMs = Date.now();
    const outputs = [...docs.values()];
    if (error !== undefined) outputs.push({ items: [{ mime: 'text/markdown', data: errorMarkdown(error) }], metadata: { id: 'error' } });
    cell.outputs = outputs;
    cell.execution = { order: ++order, success: state === 'succeeded', startMs, endMs };
    const outcome: CellOutcome = { index, label, state, error, durationMs: endMs - startMs };
    outcomes.push(outcome);
    options.onCellEnd?.(outcome);
  }
  return outcomes;
}
