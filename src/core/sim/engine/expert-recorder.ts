import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** keeps at most this many bytes of per-pass counts (a real 1000-pass stat buffer is ~60 MB) */
const MAX_BUFFER_BYTES = 32 * 1024 * 1024;

/**
 * SGLang's expert distribution recorder in `stat` mode: a circular buffer of per-pass logical
 * counts; start clears it, stop keeps it, dump writes it and resets. The dump is a JSON file
 * holding what SGLang's `.pt` holds (`rank`, `logical_count` [passes][layers][experts],
 * `average_utilization_rate_over_window`) plus the current `physical_to_logical_map`, so a
 * tool can compute per-GPU balancedness from it.
 */
export class ExpertRecorder {
  recording = false;
  private readonly passes: Int32Array[] = [];
  private readonly capacity: number;
  private next = 0;
  private readonly balancedness: number[] = [];

  constructor(
    readonly layers: number,
    readonly experts: number,
    bufferSize: number,
  ) {
    const byMemory = Math.max(1, Math.floor(MAX_BUFFER_BYTES / (layers * experts * 4)));
    this.capacity = bufferSize < 0 ? byMemory : Math.max(1, Math.min(bufferSize, byMemory));
  }

  start(): void {
    this.passes.length = 0;
    this.next = 0;
    this.balancedness.length = 0;
    this.recording = true;
  }

  stop(): void {
    this.recording = false;
  }

  record(counts: Int32Array, balancedness: number): void {
    if (!this.recording) return;
    if (this.passes.length < this.capacity) this.passes.push(counts);
    else {
      this.passes[this.next] = counts;
      this.next = (this.next + 1) % this.capacity;
    }
    this.balancedness.push(balancedness);
    if (this.balancedness.length > 1000) this.balancedness.shift();
  }

  /** passes in recording order */
  private ordered(): Int32Array[] {
    return this.passes.length < this.capacity ? this.passes.slice() : [...this.passes.slice(this.next), ...this.passes.slice(0, this.next)];
  }

  snapshot(physicalToLogical: number[][]): Record<string, unknown> {
    const logical = this.ordered().map((c) => {
      const rows: number[][] = [];
      for (let l = 0; l < this.layers; l++) rows.push(Array.from(c.subarray(l * this.experts, (l + 1) * this.experts)));
      return rows;
    });
    const avg = this.balancedness.length ? this.balancedness.reduce((a, b) => a + b, 0) / this.balancedness.length : null;
    return {
      rank: 0,
      logical_count: logical,
      average_utilization_rate_over_window: avg,
      physical_to_logical_map: physicalToLogical,
      simulated: true,
    };
  }

  /** writes `expert_distribution_recorder_<time>.json` into dir and resets; returns the path */
  async dump(dir: string, physicalToLogical: number[][]): Promise<string> {
    const data = this.snapshot(physicalToLogical);
    this.passes.length = 0;
    this.next = 0;
    this.balancedness.length = 0;
    await mkdir(dir, { recursive: true });
    const path = join(dir, `expert_distribution_recorder_${(Date.now() / 1000).toFixed(6)}.json`);
    await writeFile(path, JSON.stringify(data));
    return path;
  }
}
