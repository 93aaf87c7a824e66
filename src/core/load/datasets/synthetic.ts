import type { DatasetRow } from '../../metrics/record';
import type { Rng } from '../rng';
import { sampleLengths, type RangeSemantics } from './lengths';
import { randomWords } from './words';

export interface RandomDatasetOptions {
  numPrompts: number;
  inputLen: number;
  outputLen: number;
  rangeRatio: number;
  rangeSemantics: RangeSemantics;
}

/**
 * SGLang's `random` dataset: lengths from the range ratio, prompt text of exactly the sampled
 * length. SGLang tiles ShareGPT tokens; we use single-token words. One token is left for the BOS
 * the server adds (SGLang subtracts num_special_tokens_to_add), while promptLen stays the target.
 */
export function randomDataset(opts: RandomDatasetOptions, rng: Rng): DatasetRow[] {
  const inputs = sampleLengths(opts.inputLen, opts.rangeRatio, opts.numPrompts, opts.rangeSemantics, rng);
  const outputs = sampleLengths(opts.outputLen, opts.rangeRatio, opts.numPrompts, opts.rangeSemantics, rng, 1);
  return inputs.map((len, i) => ({ prompt: randomWords(Math.max(1, len - 1), rng), promptLen: len, outputLen: outputs[i] }));
}

/** SGLang's `random-ids`: token ids (offset + i + j) % vocab with a random offset per prompt. */
export function randomIdsDataset(opts: RandomDatasetOptions & { vocabSize: number }, rng: Rng): DatasetRow[] {
  const inputs = sampleLengths(opts.inputLen, opts.rangeRatio, opts.numPrompts, opts.rangeSemantics, rng);
  const outputs = sampleLengths(opts.outputLen, opts.rangeRatio, opts.numPrompts, opts.rangeSemantics, rng, 1);
  return inputs.map((len, i) => {
    const offset = rng.int(0, opts.vocabSize - 1);
    const ids = new Array<number>(len);
    for (let j = 0; j < len; j++) ids[j] = (offset + i + j) % opts.vocabSize;
    return { prompt: ids, promptLen: len, outputLen: outputs[i] };
  });
}

export interface SharedPrefixOptions {
  numGroups: number;
  promptsPerGroup: number;
  systemPromptLen: number;
  questionLen: number;
  outputLen: number;
  /** SGLang's --gsp-range-ratio defaults to 1.0 (fixed lengths), unlike random's 0.0 */
  rangeRatio: number;
  /** keep group order instead of shuffling */
  ordered: boolean;
}

/** SGLang's `generated-shared-prefix`: groups share a long system prompt, then a short question. */
export function sharedPrefixDataset(opts: SharedPrefixOptions, rng: Rng): DatasetRow[] {
  const systemLens = sampleLengths(opts.systemPromptLen, opts.rangeRatio, opts.numGroups, 'sglang', rng);
  const total = opts.numGroups * opts.promptsPerGroup;
  const questionLens = sampleLengths(opts.questionLen, opts.rangeRatio, total, 'sglang', rng);
  const outputLens = sampleLengths(opts.outputLen, opts.rangeRatio, total, 'sglang', rng, 1);
  const rows: DatasetRow[] = [];
  for (let g = 0; g < opts.numGroups; g++) {
    const system = randomWords(systemLens[g], rng);
    for (let q = 0; q < opts.promptsPerGroup; q++) {
      const k = g * opts.promptsPerGroup + q;
      const question = randomWords(questionLens[k], rng);
      rows.push({ prompt: `${system}\n\n${question}`, promptLen: systemLens[g] + questionLens[k], outputLen: outputLens[k], group: g });
    }
  }
  return opts.ordered ? rows : rng.shuffle(rows);
}
