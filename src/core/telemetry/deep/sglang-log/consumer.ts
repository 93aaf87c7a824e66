import { LineBuffer } from '../../line-buffer';
import type { SchedLogSample } from '../../schema';
import { parseSchedulerLogLine } from './parse';
import { parseReqTimeStatsLine, type ReqTimeStatsLine } from './req-time-stats';

/** Where a log line came from: the server (deployment process) and its node. */
export interface LogSource {
  /** e.g. "decode-0", "prefill-1/rank-0" */
  endpoint: string;
  node?: string;
}

export interface SchedulerLogConsumerOptions {
  onRecord: (sample: SchedLogSample) => void;
  /** lines that are not scheduler data, unchanged (the caller keeps them as logs) */
  onOtherLine?: (source: LogSource, line: string) => void;
  /**
   * per-request time stats lines (servers with --enable-request-time-stats-logging, see
   * req-time-stats.ts); without this callback they stay other lines
   */
  onReqTimeStats?: (line: ReqTimeStatsLine, source: LogSource) => void;
  now?: () => number;
}

/**
 * Turns streamed SGLang server logs into per-rank time series records. Feed it whole lines
 * (`line`) — e.g. from the deploy log relay's line splitter — or raw chunks (`chunk`, split
 * here per source). Never throws on a line: anything unknown goes to `onOtherLine`.
 */
export class SchedulerLogConsumer {
  private readonly buffers = new Map<string, LineBuffer>();
  private readonly now: () => number;
  readonly counts = { prefill: 0, decode: 0, balancedness: 0, reqTimeStats: 0, other: 0 };

  constructor(private readonly o: SchedulerLogConsumerOptions) {
    this.now = o.now ?? Date.now;
  }

  line(source: LogSource, text: string): void {
    let parsed;
    try {
      parsed = parseSchedulerLogLine(text);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.type === 'other') {
      const stats = this.o.onReqTimeStats ? parseReqTimeStatsLine(text) : undefined;
      if (stats) {
        this.counts.reqTimeStats++;
        this.o.onReqTimeStats?.(stats, source);
        return;
      }
      this.counts.other++;
      this.o.onOtherLine?.(source, text);
      return;
    }
    this.counts[parsed.fields.event]++;
    const sample: SchedLogSample = { kind: 'sched', tsMs: this.now(), endpoint: source.endpoint, ...parsed.fields };
    if (source.node !== undefined) sample.node = source.node;
    this.o.onRecord(sample);
  }

  chunk(source: LogSource, text: string): void {
    const key = `${source.node ?? ''}\u0000${source.endpoint}`;
    let buf = this.buffers.get(key);
    if (!buf) this.buffers.set(key, (buf = new LineBuffer()));
    buf.push(text, (l) => this.line(source, l));
  }

  /** parse what is left of unterminated lines (the stream ended) */
  flush(): void {
    for (const [key, buf] of this.buffers) {
      const [node, endpoint] = key.split('\u0000');
      buf.flush((l) => this.line({ endpoint, node: node || undefined }, l));
    }
  }
}
