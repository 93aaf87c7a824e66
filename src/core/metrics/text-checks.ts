/** Output-quality heuristics used by the validity checks. */

/**
 * Share of repeated word n-grams in a text: 1 - unique/total. Degenerate outputs ("the the the",
 * a looping paragraph) score near 1; ordinary prose near 0. Texts shorter than `minNgrams`
 * n-grams score 0 (too short to judge).
 */
export function ngramRepetition(text: string, n = 4, minNgrams = 16): number {
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  const total = words.length - n + 1;
  if (total < minNgrams) return 0;
  const seen = new Set<string>();
  for (let i = 0; i < total; i++) seen.add(words.slice(i, i + n).join('\u0001'));
  return 1 - seen.size / total;
}

/** GSM8K reference answers end with "#### 42"; anything else is taken as the number itself. */
export function gsm8kReference(answer: string): string | undefined {
  const marked = /####\s*([-+]?[\d,]*\.?\d+)/.exec(answer);
  const raw = marked ? marked[1] : lastNumber(answer);
  return raw === undefined ? undefined : normalizeNumber(raw);
}

/** the last number in a model's answer (GSM8K's usual grading: "... so the answer is 18.") */
export function gsm8kPrediction(output: string): string | undefined {
  const marked = /####\s*([-+]?[\d,]*\.?\d+)/.exec(output);
  const raw = marked ? marked[1] : lastNumber(output);
  return raw === undefined ? undefined : normalizeNumber(raw);
}

function lastNumber(text: string): string | undefined {
  const all = text.match(/[-+]?\d[\d,]*(?:\.\d+)?/g);
  return all ? all[all.length - 1] : undefined;
}

function normalizeNumber(raw: string): string {
  const n = Number(raw.replace(/,/g, ''));
  return Number.isFinite(n) ? String(n) : raw;
}

/** first standalone choice letter A–D in a model's MMLU answer */
export function mmluPrediction(output: string): string | undefined {
  const m = /(?:^|[^A-Za-z])([ABCD])(?:[^A-Za-z]|$)/.exec(output.trim());
  return m ? m[1] : undefined;
}

export function isCorrectAnswer(kind: 'gsm8k' | 'mmlu', expected: string, output: string): boolean {
  if (kind === 'mmlu') return mmluPrediction(output) === expected.trim().toUpperCase();
  const want = gsm8kReference(expected);
  // a model without a stop sequence rambles on into the next "Question:"; grade the first answer
  const firstAnswer = output.split(/\n\s*Question:/)[0];
  return want !== undefined && gsm8kPrediction(firstAnswer) === want;
}
