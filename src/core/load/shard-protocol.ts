/**
 * The wire between a run's owner and a client node's `moebench load-shard` process: newline-
 * delimited JSON over the SSH channel's stdin/stdout (stderr carries logs only). Also the two
 * pieces of arithmetic the owner needs: the clock-offset estimate and the columns' compact form.
 *
 * Owner -> node: `config` once, `clock` pings, `start` (the shared start in the NODE's clock), `abort`.
 * Node -> owner: `hello`, `clock` answers, `lines` (run-store lines), `progress`, `ready` (warmup
 * done, waiting for `start`), `column` chunks then `done`, or `error`.
 */
import { F64Column, RunColumns, type ColumnSnapshot, type ColumnsSnapshot, type ValidityTally } from '../metrics/columns';
import type { ClientHealth } from '../metrics/validity';
import type { LoadPlan } from './pool';
import type { LoadProgress } from './runner';
import type { RequestRecord } from '../metrics/record';

export const SHARD_PROTOCOL_VERSION = 1;

/** What a client node runs: the run's plan, `workers` load threads, and which slices of the schedule they are. */
export interface NodeShardConfig {
  plan: LoadPlan;
  /** load threads on the node (each one slice of the seeded schedule) */
  workers: number;
  /** the node's threads are slices first .. first + workers - 1 of `of` (i % of === slice) */
  share: { first: number; of: number };
}

export type OwnerMessage =
  | { type: 'config'; config: NodeShardConfig }
  | { type: 'clock'; id: number }
  | { type: 'start'; epoch: number }
  | { type: 'abort' };

export interface NodeDone {
  warmups: number;
  tally: ValidityTally;
  /** values per column; the `column` messages before `done` must add up to these */
  lengths: Record<string, number>;
  health: ClientHealth;
  sample: RequestRecord[];
  cancelled: boolean;
  /** epoch ms in the node's clock */
  startEpoch: number;
  lastFinishEpoch: number;
}

export type NodeMessage =
  | { type: 'hello'; protocol: number; nodeVersion: string; pid: number }
  | { type: 'clock'; id: number; epoch: number }
  | { type: 'ready' }
  | { type: 'lines'; lines: string[] }
  | { type: 'progress'; progress: LoadProgress }
  /** base64 of little-endian Float64 values, appended to the named column in order */
  | { type: 'column'; name: string; data: string }
  | ({ type: 'done' } & NodeDone)
  | { type: 'error'; message: string; warmup: boolean };

// JSON has no Infinity or NaN (a tally's empty min/max, an all-at-once rate): they travel tagged
const NON_FINITE = '$nonFinite';

export function encodeMessage(m: OwnerMessage | NodeMessage): string {
  return JSON.stringify(m, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { [NON_FINITE]: String(v) } : v)) + '\n';
}

export function decodeMessage<T extends OwnerMessage | NodeMessage>(line: string): T {
  return JSON.parse(line, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const tag = o[NON_FINITE];
      if (typeof tag === 'string' && Object.keys(o).length === 1) return Number(tag);
    }
    return v;
  }) as T;
}

/** Splits a byte stream into lines (a chunk may end anywhere). */
export class LineSplitter {
  private rest = '';
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const text = this.rest + chunk;
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      const line = text.slice(from, nl);
      from = nl + 1;
      if (line.trim()) this.onLine(line);
    }
    this.rest = text.slice(from);
  }
}

/** One clock ping: sent and received in the owner's clock, the node's reading in between (epoch ms). */
export interface ClockSample {
  sentEpoch: number;
  receivedEpoch: number;
  remoteEpoch: number;
}

export interface ClockOffset {
  /** node clock minus owner clock, ms: nodeEpoch = ownerEpoch + offsetMs */
  offsetMs: number;
  /** round trip of the sample used; the offset is exact to within half of it */
  rttMs: number;
  samples: number;
}

/**
 * NTP's estimate from the ping with the shortest round trip: the node read its clock somewhere
 * between send and receive, so the midpoint is off by at most half that round trip, and the
 * fastest ping is the one least delayed on one side only.
 */
export function estimateClockOffset(samples: readonly ClockSample[]): ClockOffset {
  if (samples.length === 0) throw new RangeError('no clock samples');
  let best = samples[0];
  for (const s of samples) if (s.receivedEpoch - s.sentEpoch < best.receivedEpoch - best.sentEpoch) best = s;
  const mid = (best.sentEpoch + best.receivedEpoch) / 2;
  return { offsetMs: best.remoteEpoch - mid, rttMs: best.receivedEpoch - best.sentEpoch, samples: samples.length };
}

/** the columns of a snapshot by wire name ("good.ttft", "itl", "lag") */
function namedColumns(s: ColumnsSnapshot): [string, ColumnSnapshot][] {
  return [...Object.entries(s.good).map(([k, c]): [string, ColumnSnapshot] => [`good.${k}`, c]), ['itl', s.itl], ['lag', s.lag]];
}

/** Column messages for a snapshot (one per stored chunk, so no message holds more than 64 Ki values). */
export function* columnMessages(s: ColumnsSnapshot): Generator<NodeMessage> {
  for (const [name, col] of namedColumns(s)) {
    let left = col.length;
    for (const chunk of col.chunks) {
      if (left <= 0) break;
      const n = Math.min(left, chunk.length);
      left -= n;
      yield { type: 'column', name, data: Buffer.from(chunk.buffer, chunk.byteOffset, n * 8).toString('base64') };
    }
  }
}

export function columnLengths(s: ColumnsSnapshot): Record<string, number> {
  return Object.fromEntries(namedColumns(s).map(([n, c]) => [n, c.length]));
}

/** Rebuilds a node's columns from its `column` messages and `done`. */
export class ColumnsAssembler {
  private readonly columns = new Map<string, F64Column>();

  add(name: string, base64: string): void {
    const bytes = Buffer.from(base64, 'base64');
    // copy into an aligned buffer: a Float64Array view needs an offset that is a multiple of 8
    const values = new Float64Array(bytes.length / 8);
    new Uint8Array(values.buffer).set(bytes);
    let col = this.columns.get(name);
    if (!col) this.columns.set(name, (col = new F64Column()));
    for (let i = 0; i < values.length; i++) col.push(values[i]);
  }

  /** the node's snapshot; throws when a column is shorter or longer than `done` says */
  finish(done: NodeDone, template: RunColumns): ColumnsSnapshot {
    const column = (name: string): ColumnSnapshot => {
      const c = this.columns.get(name) ?? new F64Column();
      const want = done.lengths[name] ?? 0;
      if (c.length !== want) throw new RangeError(`column ${name}: ${c.length} values received, ${want} sent`);
      return c.snapshot();
    };
    const base = template.snapshot();
    return {
      warmups: done.warmups,
      good: Object.fromEntries(Object.keys(base.good).map((k) => [k, column(`good.${k}`)])) as ColumnsSnapshot['good'],
      itl: column('itl'),
      lag: column('lag'),
      tally: done.tally,
    };
  }
}
