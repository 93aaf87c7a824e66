import { appendFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { TelemetryRecord } from './schema';
/** the run directory's telemetry file (results/types.ts TELEMETRY_FILE) */
export const TELEMETRY_FILE = 'telemetry.jsonl';

// appends to one file are chained so concurrent callers never interleave half-lines
const chains = new Map<string, Promise<void>>();

/**
 * Append telemetry records to `<runDir>/telemetry.jsonl`, one JSON object per line. Safe to call
 * from several collectors at once; each call's lines land together, in call order.
 */
export function appendTelemetry(runDir: string, records: readonly TelemetryRecord[]): Promise<void> {
  if (records.length === 0) return chains.get(path.join(runDir, TELEMETRY_FILE)) ?? Promise.resolve();
  const file = path.join(runDir, TELEMETRY_FILE);
  const text = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
  const prev = chains.get(file) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(() => appendFile(file, text, 'utf8'));
  chains.set(file, next);
  void next.finally(() => {
    if (chains.get(file) === next) chains.delete(file);
  }).catch(() => undefined);
  return next;
}
