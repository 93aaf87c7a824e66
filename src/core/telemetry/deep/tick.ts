/**
 * Groups per-GPU rows of a streaming tool (dcgmi dmon, nvidia-smi dmon) into per-node ticks.
 * Tools print every GPU once per interval in index order, so a tick ends when the index stops
 * increasing; after the first such tick the GPU count is known and a tick is emitted as soon as
 * that many rows are in (no waiting one interval). The tick time is when its first row arrived.
 */
export class TickAssembler<T extends { index: number }> {
  private pending: T[] = [];
  private pendingTsMs = 0;
  private learned = 0;

  constructor(
    private readonly emit: (rows: T[], tsMs: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  push(row: T): void {
    const last = this.pending.length > 0 ? this.pending[this.pending.length - 1].index : -1;
    if (row.index <= last) {
      if (this.pending.length > this.learned) this.learned = this.pending.length;
      this.flush();
    }
    if (this.pending.length === 0) this.pendingTsMs = this.now();
    this.pending.push(row);
    if (this.learned > 0 && this.pending.length >= this.learned) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    this.emit(rows, this.pendingTsMs);
  }
}
