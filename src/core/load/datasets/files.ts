import type { DatasetRow } from '../../metrics/record';
import { parseCsv } from './csv';
import { DatasetError, jsonFailure } from './errors';
import { isRecord } from './sharegpt';
import { estimateTokens } from '../../util/tokens';

/** Local evaluation files in their usual shapes. `outputLen` applies when a row names none. */
export interface FileDatasetOptions {
  numPrompts: number;
  outputLen: number;
}

function parseJsonl(text: string, file: string): { value: Record<string, unknown>; line: number }[] {
  const out: { value: Record<string, unknown>; line: number }[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new DatasetError(`Line ${i + 1} is not valid JSON: ${jsonFailure(err)}`, file, 'Each line of a JSONL file must be one JSON object.', i + 1);
    }
    if (!isRecord(value)) throw new DatasetError(`Line ${i + 1} is not a JSON object`, file, undefined, i + 1);
    out.push({ value, line: i + 1 });
  }
  return out;
}

function row(prompt: string, outputLen: number, extra: Partial<DatasetRow> = {}): DatasetRow {
  return { prompt, promptLen: estimateTokens(prompt), outputLen, ...extra };
}

/** GSM8K (openai/grade-school-math test.jsonl): {"question": ..., "answer": "... #### 42"} */
export function gsm8kDataset(text: string, opts: FileDatasetOptions, file: string): DatasetRow[] {
  return parseJsonl(text, file)
    .slice(0, opts.numPrompts)
    .map(({ value, line }) => {
      const q = value['question'];
      const a = value['answer'];
      if (typeof q !== 'string' || typeof a !== 'string') {
        throw new DatasetError(`Line ${line} lacks string "question" and "answer" fields`, file, 'GSM8K rows look like {"question": "...", "answer": "... #### 42"}.', line);
      }
      return row(`Question: ${q}\nAnswer:`, opts.outputLen, { answer: a, answerKind: 'gsm8k' });
    });
}

/**
 * MMLU (hendrycks test CSVs): question, A, B, C, D, answer — no header in the original files;
 * a header row starting with "question" is skipped.
 */
export function mmluDataset(text: string, opts: FileDatasetOptions, file: string): DatasetRow[] {
  const rows = parseCsv(text);
  if (rows.length && rows[0][0]?.trim().toLowerCase() === 'question') rows.shift();
  return rows.slice(0, opts.numPrompts).map((cols, i) => {
    if (cols.length < 6) throw new DatasetError(`CSV row ${i + 1} has ${cols.length} columns, expected 6 (question, A, B, C, D, answer)`, file, undefined, i + 1);
    const [q, a, b, c, d, ans] = cols;
    const prompt = `${q.trim()}\nA. ${a}\nB. ${b}\nC. ${c}\nD. ${d}\nAnswer:`;
    return row(prompt, opts.outputLen, { answer: ans.trim().toUpperCase(), answerKind: 'mmlu' });
  });
}

/** AlpacaEval (alpaca_eval.json): [{"instruction": ..., "output": ..., ...}] */
export function alpacaDataset(text: string, opts: FileDatasetOptions, file: string): DatasetRow[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DatasetError(`Not valid JSON: ${jsonFailure(err)}`, file);
  }
  if (!Array.isArray(json)) throw new DatasetError('AlpacaEval file must hold a JSON array', file, 'Rows look like {"instruction": "..."}.');
  const rows: DatasetRow[] = [];
  for (let i = 0; i < json.length && rows.length < opts.numPrompts; i++) {
    const item: unknown = json[i];
    const instruction = isRecord(item) ? item['instruction'] : undefined;
    if (typeof instruction !== 'string') throw new DatasetError(`Item ${i} has no string "instruction"`, file);
    rows.push(row(instruction, opts.outputLen));
  }
  return rows;
}

/**
 * Plain JSONL: one object per line with the prompt in "prompt" (or "text", "question",
 * "instruction") and optionally "output_len" / "max_tokens", "answer".
 */
export function jsonlDataset(text: string, opts: FileDatasetOptions, file: string): DatasetRow[] {
  return parseJsonl(text, file)
    .slice(0, opts.numPrompts)
    .map(({ value, line }) => {
      const prompt = ['prompt', 'text', 'question', 'instruction'].map((k) => value[k]).find((v): v is string => typeof v === 'string');
      if (prompt === undefined) throw new DatasetError(`Line ${line} has no "prompt" (or "text") string`, file, 'Rows look like {"prompt": "...", "output_len": 128}.', line);
      const out = ['output_len', 'max_tokens', 'output_tokens'].map((k) => value[k]).find((v): v is number => typeof v === 'number' && v > 0);
      return row(prompt, out ?? opts.outputLen);
    });
}

/**
 * The JSON objects of a JSONL text with their 1-based line numbers, blank lines skipped; a line
 * that is not a JSON object is refused naming its line (`what` names the file kind in the message).
 */
export function* jsonlObjects(text: string, file: string, what: string, example: string): Generator<{ o: Record<string, unknown>; line: number }> {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new DatasetError(`${what} line ${i + 1} is not JSON`, file, `Each line looks like ${example}.`, i + 1);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DatasetError(`${what} line ${i + 1} is not an object`, file, undefined, i + 1);
    yield { o: v as Record<string, unknown>, line: i + 1 };
  }
}
