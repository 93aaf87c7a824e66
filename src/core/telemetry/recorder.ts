import { readFile } from 'node:fs/promises';
import { appendTelemetry } from './store';
import type { Disposable } from '../util/disposable';
import { TELEMETRY_KINDS, type PhaseMarker, type TelemetryRecord } from './schema';

/** Where records go: the run store's `telemetry.jsonl` in production, an array in tests. */
export interface TelemetrySink {
  append(records: readonly TelemetryRecord[]): Promise<void>;
}

/** `<runDir>/telemetry.jsonl` through the run store's appender (helper "load" owns src/core/results). */
export function runDirSink(runDir: string): TelemetrySink {
  return { append: (records) => appendTelemetry(runDir, records) };
}

export interface TelemetryRecorderOptions {
  /** records are written in batches at most this far apart (default 1 s) */
  flushIntervalMs?: number;
  /** or as soon as this many are waiting (default 1000) */
  maxBuffered?: number;
  onError?: (err: unknown) => void;
  now?: () => number;
}

/**
 * Collects samples from the collectors and phase markers from the bench, writes them in batches
 * (one append per second instead of one per sample: a 96-GPU run emits ~25 records/s). Owns its
 * timer; `dispose()` writes what is left.
 */
export class TelemetryRecorder implements Disposable {
  private buffer: TelemetryRecord[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private disposed = false;
  private readonly now: () => number;

  constructor(
    private readonly sink: TelemetrySink,
    private readonly opts: TelemetryRecorderOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  record(r: TelemetryRecord): void {
    if (this.disposed) return;
    this.buffer.push(r);
    if (this.buffer.length >= (this.opts.maxBuffered ?? 1000)) void this.flush();
    else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.opts.flushIntervalMs ?? 1000);
  }

  /** Mark a phase edge now (warmup, each sweep step...). Returns the marker written. */
  phase(phase: PhaseMarker['phase'], edge: PhaseMarker['edge'], extra: { step?: number; label?: string; tsMs?: number } = {}): PhaseMarker {
    const marker: PhaseMarker = { kind: 'phase', tsMs: extra.tsMs ?? this.now(), phase, edge };
    if (extra.step !== undefined) marker.step = extra.step;
    if (extra.label !== undefined) marker.label = extra.label;
    this.record(marker);
    return marker;
  }

  /** Write everything buffered; resolves when it is on disk. Writes never overlap. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length > 0) {
      this.writing = this.writing.then(() =>
        this.sink.append(batch).catch((err: unknown) => {
          if (this.opts.onError) this.opts.onError(err);
        }),
      );
    }
    return this.writing;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    await this.flush();
    this.disposed = true;
  }
}

export interface TelemetryFile {
  records: TelemetryRecord[];
  /** lines of kinds this version does not know (written by a newer MoE Bench) */
  skippedUnknown: number;
  /** lines that are not JSON objects with a kind and a time (a torn last line after a crash) */
  badLines: number;
}

const KNOWN = new Set<string>(TELEMETRY_KINDS);

/** Parse telemetry.jsonl text. Unknown kinds are skipped, not errors (forward compatibility). */
export function parseTelemetryJsonl(text: string): TelemetryFile {
  const out: TelemetryFile = { records: [], skippedUnknown: 0, badLines: 0 };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      out.badLines++;
      continue;
    }
    if (!v || typeof v !== 'object' || typeof (v as { kind?: unknown }).kind !== 'string' || typeof (v as { tsMs?: unknown }).tsMs !== 'number') {
      out.badLines++;
      continue;
    }
    if (!KNOWN.has((v as { kind: string }).kind)) {
      out.skippedUnknown++;
      continue;
    }
    out.records.push(v as TelemetryRecord);
  }
  return out;
}

export async function readTelemetryFile(file: string): Promise<TelemetryFile> {
  return parseTelemetryJsonl(await readFile(file, 'utf8'));
}
