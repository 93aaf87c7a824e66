import { parse as parseYaml } from 'yaml';
import { looksLikeAiperf } from './aiperf';
import { looksLikeAiperfCsv } from './aiperf-csv';
import { isObject } from './build';
import { looksLikeGuidellm } from './guidellm';
import { parsePythonJson } from './loose-json';
import { looksLikeSglangLine } from './sglang-bench-serving';
import type { ImportSource } from './types';
import { looksLikeVllmResult } from './vllm-bench-serve';

/** Which tool wrote this text, from its shape alone (file names lie; keys do not). */
export function detectFormat(text: string): ImportSource | undefined {
  if (looksLikeAiperfCsv(text)) return 'aiperf';
  const whole = tryParse(text);
  if (whole !== undefined) {
    const kind = classify(whole);
    if (kind) return kind;
  }
  // GuideLLM writes its report as YAML too (--output-path benchmarks.yaml)
  if (whole === undefined && /^benchmarks:/m.test(text)) {
    const kind = classify(tryParseYaml(text));
    if (kind) return kind;
  }
  // JSONL: judge by the first object line
  const firstLine = text.split('\n').find((l) => l.trim() !== '');
  if (firstLine === undefined || firstLine.trim() === text.trim()) return undefined;
  const first = tryParse(firstLine);
  return first === undefined ? undefined : classify(first);
}

function classify(o: unknown): ImportSource | undefined {
  if (!isObject(o)) return undefined;
  if (looksLikeGuidellm(o)) return 'guidellm';
  if (looksLikeAiperf(o)) return 'aiperf';
  if (looksLikeSglangLine(o)) return 'sglang-bench-serving';
  if (looksLikeVllmResult(o)) return 'vllm-bench-serve';
  return undefined;
}

function tryParse(text: string): unknown {
  try {
    return parsePythonJson(text);
  } catch {
    return undefined;
  }
}

function tryParseYaml(text: string): unknown {
  try {
    return parseYaml(text);
  } catch {
    return undefined;
  }
}
