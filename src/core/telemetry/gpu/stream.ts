import { LineBuffer } from '../line-buffer';
import type { GpuReading, GpuSample } from '../schema';
import { GpuQueryParser } from './query-csv';

export interface GpuStreamOptions {
  node: string;
  /** the fields the command asked for, in order (used when the output has no header) */
  fields: readonly string[];
  onSample: (sample: GpuSample) => void;
  /** non-data lines (nvidia-smi errors), one call per line */
  onProblem?: (text: string) => void;
  now?: () => number;
}

/**
 * Assembles the lines of one `nvidia-smi --query-gpu ... -lms N` stream into per-node ticks.
 * nvidia-smi prints every GPU once per interval in index order, so a tick ends when the index
 * stops increasing. The GPU count is learned from the first tick closed that way (node info can
 * be wrong: a node may hide GPUs from CUDA but not from nvidia-smi); after that a tick is
 * emitted as soon as that many GPUs are in, without waiting an interval. The tick time is when
 * its first line arrived here.
 */
export class GpuStreamAssembler {
  private readonly lines = new LineBuffer();
  private readonly parser: GpuQueryParser;
  private pending: GpuReading[] = [];
  private pendingTsMs = 0;
  private learnedCount = 0;
  private readonly now: () => number;
  private readonly onLine = (line: string): void => this.handleLine(line);

  constructor(private readonly opts: GpuStreamOptions) {
    this.parser = new GpuQueryParser(opts.fields);
    this.now = opts.now ?? Date.now;
  }

  push(chunk: string): void {
    this.lines.push(chunk, this.onLine);
  }

  /** One whole line (without its newline), for callers that split lines themselves. */
  pushLine(line: string): void {
    this.handleLine(line);
  }

  /** The stream ended: parse a last unterminated line and emit what is pending. */
  end(): void {
    this.lines.flush(this.onLine);
    this.flush();
  }

  private handleLine(line: string): void {
    const r = this.parser.parseLine(line);
    if (r.type === 'problem') {
      this.opts.onProblem?.(r.text);
      return;
    }
    if (r.type !== 'reading') return;
    const reading = r.reading;
    const last = this.pending.length > 0 ? this.pending[this.pending.length - 1].index : -1;
    if (reading.index <= last) {
      // The index went back: the pending tick was complete, and tells how many GPUs there are.
      if (this.pending.length > this.learnedCount) this.learnedCount = this.pending.length;
      this.flush();
    }
    if (this.pending.length === 0) this.pendingTsMs = this.now();
    this.pending.push(reading);
    if (this.learnedCount > 0 && this.pending.length >= this.learnedCount) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const gpus = this.pending;
    this.pending = [];
    this.opts.onSample({ kind: 'gpu', tsMs: this.pendingTsMs, node: this.opts.node, gpus });
  }
}
