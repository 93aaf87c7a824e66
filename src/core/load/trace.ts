import { readFile } from 'node:fs/promises';
import { DatasetError } from './datasets/errors';
import { jsonlObjects } from './datasets/files';
import { randomWords } from './datasets/words';
import type { Rng } from './rng';
import type { DatasetRow } from '../metrics/record';

/** One line of a request trace: when, and optionally how big. */
export interface TraceEntry {
  offsetMs: number;
  inputLen?: number;
  outputLen?: number;
  prompt?: string;
}

const MS_KEYS = ['timestamp', 'timestamp_ms', 'time_ms', 'arrival_ms'];
const SEC_KEYS = ['timestamp_s', 'time_sec', 'arrival_time', 'time'];
const IN_KEYS = ['input_length', 'input_len', 'prompt_len', 'input_tokens'];
const OUT_KEYS = ['output_length', 'output_len', 'max_tokens', 'output_tokens'];

/**
 * A JSONL trace, one request per line. Times: `timestamp` in ms (Mooncake's convention) or
 * `timestamp_s` / `time_sec` in seconds. Lengths (`input_length`, `output_length`) and `prompt`
 * are optional; without them the workload's dataset rows are replayed in order at these times.
 */
export async function loadTrace(file: string): Promise<TraceEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new DatasetError(`Cannot read trace file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file);
  }
  const entries: TraceEntry[] = [];
  for (const { o, line } of jsonlObjects(text, file, 'Trace', '{"timestamp": 1200, "input_length": 512, "output_length": 128}')) {
    const i = line - 1;
    const pick = (keys: string[]): number | undefined => keys.map((k) => o[k]).find((x): x is number => typeof x === 'number' && Number.isFinite(x));
    const ms = pick(MS_KEYS);
    const sec = ms === undefined ? pick(SEC_KEYS) : undefined;
    if (ms === undefined && sec === undefined) throw new DatasetError(`Trace line ${i + 1} has no timestamp`, file, `Use "timestamp" (ms) or "timestamp_s" (seconds).`, i + 1);
    entries.push({ offsetMs: ms ?? (sec ?? 0) * 1000, inputLen: pick(IN_KEYS), outputLen: pick(OUT_KEYS), prompt: typeof o['prompt'] === 'string' ? o['prompt'] : undefined });
  }
  if (entries.length === 0) throw new DatasetError('The trace file is empty', file);
  entries.sort((a, b) => a.offsetMs - b.offsetMs);
  return entries;
}

/** Rows for a trace that carries its own sizes; undefined when it carries none (use the dataset). */
export function traceRows(entries: readonly TraceEntry[], rng: Rng, defaultOutputLen: number): DatasetRow[] | undefined {
  if (!entries.some((e) => e.inputLen !== undefined || e.prompt !== undefined)) return undefined;
  return entries.map((e) => {
    const inputLen = e.inputLen ?? 1;
    const prompt = e.prompt ?? randomWords(Math.max(1, inputLen - 1), rng);
    return { prompt, promptLen: e.inputLen ?? Math.max(1, prompt.split(/\s+/).length), outputLen: e.outputLen ?? defaultOutputLen };
  });
}
