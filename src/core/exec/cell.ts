import type { HostServices } from '../host';
import type { CellEventSink } from './events';
import type { Session } from './session';

/** What one cell's execution gets from the executor: the session, its events, cancellation, the host. */
export interface CellContext {
  session: Session;
  cell: { index: number; name?: string; language: string };
  emit: CellEventSink;
  signal: AbortSignal;
  host: HostServices;
}

export interface CellExecutor {
  readonly language: string;
  /** throws typed MoeBenchErrors on failure; resolves when the cell is done */
  execute(source: string, ctx: CellContext): Promise<void>;
}
