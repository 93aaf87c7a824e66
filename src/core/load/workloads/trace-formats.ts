/**
 * Request traces in their published layouts, normalised to arrival offsets (ms) and lengths.
 * - Mooncake (kvcache-ai/Mooncake FAST25-release/README.md @40ea55f8): JSONL, `timestamp` (ms
 *   since the trace start), `input_length`, `output_length`, `hash_ids` (one id per KV block of
 *   `blockSize` tokens; a shared leading run of ids is a shared prefix).
 * - Azure LLM inference trace 2023/2024 (Azure/AzurePublicDataset AzureLLMInferenceDataset2023.md
 *   @1a61e6c6): CSV `TIMESTAMP` (a date-time with a fractional second), `ContextTokens`,
 *   `GeneratedTokens`.
 * - BurstGPT (HPMLL/BurstGPT README; columns as ai-dynamo/aiperf burst_gpt.py @1acb3691 reads
 *   them): CSV `Timestamp` (seconds since the trace start), `Request tokens`, `Response tokens`;
 *   `Model`, `Total tokens`, `Log Type` are ignored. Rows with 0 response tokens are failed
 *   requests in the original service and are skipped (BurstGPT_without_fails drops them too).
 */
import { readFile } from 'node:fs/promises';
import { DatasetError } from '../datasets/errors';
import { parseCsv } from '../datasets/csv';
import { jsonlObjects } from '../datasets/files';

export const TRACE_FORMATS = ['mooncake', 'azure', 'burstgpt'] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

export interface TraceRequest {
  /** ms after the first request */
  offsetMs: number;
  inputLen: number;
  outputLen: number;
  /** Mooncake: KV block ids, one per blockSize tokens */
  hashIds?: number[];
}

export async function readTraceFile(file: string, format: TraceFormat): Promise<TraceRequest[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new DatasetError(`Cannot read trace file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file, 'Check the path; relative paths start at the notebook folder.');
  }
  const requests = format === 'mooncake' ? parseMooncake(text, file) : format === 'azure' ? parseAzure(text, file) : parseBurstGpt(text, file);
  if (requests.length === 0) throw new DatasetError('The trace has no request', file);
  const first = Math.min(...requests.map((r) => r.offsetMs));
  for (const r of requests) r.offsetMs -= first;
  // stable: simultaneous arrivals keep the file's order
  return requests.map((r, i) => ({ r, i })).sort((a, b) => a.r.offsetMs - b.r.offsetMs || a.i - b.i).map((x) => x.r);
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

export function parseMooncake(text: string, file: string): TraceRequest[] {
  const out: TraceRequest[] = [];
  for (const { o, line } of jsonlObjects(text, file, 'Mooncake trace', '{"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47, 48]}')) {
    const i = line - 1;
    const ts = o['timestamp'];
    if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0) throw new DatasetError(`Mooncake trace line ${i + 1}: "timestamp" must be a number of ms (got ${JSON.stringify(ts)})`, file, undefined, i + 1);
    const inputLen = o['input_length'];
    const outputLen = o['output_length'];
    if (!isPositiveInt(inputLen)) throw new DatasetError(`Mooncake trace line ${i + 1}: "input_length" must be a positive integer (got ${JSON.stringify(inputLen)})`, file, undefined, i + 1);
    if (!isPositiveInt(outputLen)) throw new DatasetError(`Mooncake trace line ${i + 1}: "output_length" must be a positive integer (got ${JSON.stringify(outputLen)})`, file, undefined, i + 1);
    const ids = o['hash_ids'];
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)) {
      throw new DatasetError(`Mooncake trace line ${i + 1}: "hash_ids" must be a non-empty list of block ids (non-negative integers)`, file, 'Without hash_ids the prefix sharing of the trace is unknown; use format: jsonl-timestamps (load.trace) for timestamps only.', i + 1);
    }
    out.push({ offsetMs: ts, inputLen, outputLen, hashIds: ids as number[] });
  }
  return out;
}

function csvTable(text: string, file: string, required: readonly string[], layout: string): { rows: string[][]; col: (name: string) => number } {
  const rows = parseCsv(text);
  if (rows.length === 0) throw new DatasetError(`The ${layout} trace is empty`, file);
  const header = rows[0].map((h) => h.trim());
  const col = (name: string): number => header.indexOf(name);
  const missing = required.filter((c) => col(c) < 0);
  if (missing.length) throw new DatasetError(`The ${layout} trace lacks column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} (header: ${header.slice(0, 8).join(', ')})`, file, `The ${layout} layout has the columns ${required.join(', ')}.`, 1);
  return { rows: rows.slice(1), col };
}

function intCell(row: string[], i: number, what: string, line: number, file: string, min: number): number {
  const n = Number(row[i]?.trim());
  if (!Number.isInteger(n) || n < min) throw new DatasetError(`Trace line ${line}: ${what} must be an integer >= ${min} (got ${JSON.stringify(row[i] ?? '')})`, file, undefined, line);
  return n;
}

/**
 * Azure's TIMESTAMP, e.g. "2023-11-16 18:15:46.6805900": a date-time in UTC with up to 7
 * fractional digits (more than Date parses), kept to the microsecond.
 */
export function azureTimestampMs(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|[+-]00:?00)?$/.exec(text.trim());
  if (!m) return undefined;
  const base = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  const frac = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  return base + frac;
}

export function parseAzure(text: string, file: string): TraceRequest[] {
  const { rows, col } = csvTable(text, file, ['TIMESTAMP', 'ContextTokens', 'GeneratedTokens'], 'Azure LLM inference');
  const [ts, ctx, gen] = [col('TIMESTAMP'), col('ContextTokens'), col('GeneratedTokens')];
  return rows.map((r, k) => {
    const line = k + 2;
    const at = azureTimestampMs(r[ts] ?? '');
    if (at === undefined) throw new DatasetError(`Trace line ${line}: TIMESTAMP is not a date-time like 2023-11-16 18:15:46.6805900 (got ${JSON.stringify(r[ts] ?? '')})`, file, undefined, line);
    return { offsetMs: at, inputLen: intCell(r, ctx, 'ContextTokens', line, file, 1), outputLen: intCell(r, gen, 'GeneratedTokens', line, file, 1) };
  });
}

export function parseBurstGpt(text: string, file: string): TraceRequest[] {
  const { rows, col } = csvTable(text, file, ['Timestamp', 'Request tokens', 'Response tokens'], 'BurstGPT');
  const [ts, req, resp] = [col('Timestamp'), col('Request tokens'), col('Response tokens')];
  const out: TraceRequest[] = [];
  rows.forEach((r, k) => {
    const line = k + 2;
    const sec = Number(r[ts]?.trim());
    if (!Number.isFinite(sec) || sec < 0) throw new DatasetError(`Trace line ${line}: Timestamp must be seconds since the trace start (got ${JSON.stringify(r[ts] ?? '')})`, file, undefined, line);
    const outputLen = intCell(r, resp, 'Response tokens', line, file, 0);
    if (outputLen === 0) return;
    out.push({ offsetMs: sec * 1000, inputLen: intCell(r, req, 'Request tokens', line, file, 1), outputLen });
  });
  return out;
}
