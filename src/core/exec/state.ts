/**
 * Cell execution as an explicit state machine, guarded against double start/end:
 * pending -> running -> succeeded | failed | cancelled, and pending -> cancelled.
 */
export type CellRunState = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';

const ALLOWED: Record<CellRunState, readonly CellRunState[]> = {
  pending: ['running', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export class IllegalTransitionError extends Error {}

export class CellRunStateMachine {
  private current: CellRunState = 'pending';
  private readonly listeners: ((s: CellRunState) => void)[] = [];

  get state(): CellRunState {
    return this.current;
  }

  get finished(): boolean {
    return this.current === 'succeeded' || this.current === 'failed' || this.current === 'cancelled';
  }

  onChange(listener: (s: CellRunState) => void): void {
    this.listeners.push(listener);
  }

  transition(to: CellRunState): void {
    if (!ALLOWED[this.current].includes(to)) {
      throw new IllegalTransitionError(`cell execution cannot go from ${this.current} to ${to}`);
    }
    this.current = to;
    for (const l of this.listeners) l(to);
  }

  /** like transition, but a no-op when already finished (for racing cancel vs end) */
  tryFinish(to: 'succeeded' | 'failed' | 'cancelled'): boolean {
    if (this.finished) return false;
    this.transition(to);
    return true;
  }
}
