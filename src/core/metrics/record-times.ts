import type { RequestRecord } from './record';

/**
 * A record's times as requests.jsonl keeps them: microseconds (3 decimals of a ms). The load
 * generator rounds before it computes metrics, so the summary is reproducible bit for bit from
 * the stored file.
 */
export function roundRecordTimes(rec: RequestRecord): RequestRecord {
  const r3 = (x: number): number => Math.round(x * 1000) / 1000;
  rec.scheduledMs = r3(rec.scheduledMs);
  rec.dispatchedMs = r3(rec.dispatchedMs);
  rec.startMs = r3(rec.startMs);
  rec.lastLineMs = r3(rec.lastLineMs);
  if (rec.headersMs !== undefined) rec.headersMs = r3(rec.headersMs);
  for (let i = 0; i < rec.chunkMs.length; i++) rec.chunkMs[i] = r3(rec.chunkMs[i]);
  return rec;
}
