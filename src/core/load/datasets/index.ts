import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { DatasetRow } from '../../metrics/record';
import { createRng } from '../rng';
import { DatasetError, jsonFailure } from './errors';
import { alpacaDataset, gsm8kDataset, jsonlDataset, mmluDataset } from './files';
import type { RangeSemantics } from './lengths';
import { shareGptDataset } from './sharegpt';
import { randomDataset, randomIdsDataset, sharedPrefixDataset } from './synthetic';

export { applyCacheBust, newCacheSalt } from './cache-bust';
export { DatasetError } from './errors';
export { estimateTokens } from '../../util/tokens';

export const DATASET_NAMES = ['random', 'random-ids', 'sharegpt', 'generated-shared-prefix', 'gsm8k', 'mmlu', 'alpaca-eval', 'jsonl'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** Datasets read from a file (`path` required). */
export const FILE_DATASETS: readonly DatasetName[] = ['sharegpt', 'gsm8k', 'mmlu', 'alpaca-eval', 'jsonl'];

export interface DatasetSpec {
  name: DatasetName;
  numPrompts: number;
  seed: number;
  /** random / random-ids lengths (SGLang defaults 1024 / 1024) */
  inputLen?: number;
  outputLen?: number;
  /** SGLang default 0.0 */
  rangeRatio?: number;
  rangeSemantics?: RangeSemantics;
  /** file datasets; relative paths resolve against `baseDir` */
  path?: string;
  /** random-ids vocabulary */
  vocabSize?: number;
  sharegptOutputLen?: number;
  sharegptContextLen?: number;
  sharedPrefix?: {
    numGroups?: number;
    promptsPerGroup?: number;
    systemPromptLen?: number;
    questionLen?: number;
    outputLen?: number;
    rangeRatio?: number;
    ordered?: boolean;
  };
}

/** Build a workload's rows. Deterministic for a given spec and seed. */
export async function loadDataset(spec: DatasetSpec, baseDir = process.cwd()): Promise<DatasetRow[]> {
  const rng = createRng(spec.seed);
  const random = {
    numPrompts: spec.numPrompts,
    inputLen: spec.inputLen ?? 1024,
    outputLen: spec.outputLen ?? 1024,
    rangeRatio: spec.rangeRatio ?? 0,
    rangeSemantics: spec.rangeSemantics ?? 'sglang',
  };
  switch (spec.name) {
    case 'random':
      return randomDataset(random, rng);
    case 'random-ids':
      return randomIdsDataset({ ...random, vocabSize: spec.vocabSize ?? 32000 }, rng);
    case 'generated-shared-prefix': {
      const g = spec.sharedPrefix ?? {};
      // SGLang's GSP defaults: 64 groups x 16 prompts, 2048-token system prompt, 128-token question, 256 out
      return sharedPrefixDataset(
        {
          numGroups: g.numGroups ?? 64,
          promptsPerGroup: g.promptsPerGroup ?? 16,
          systemPromptLen: g.systemPromptLen ?? 2048,
          questionLen: g.questionLen ?? 128,
          outputLen: g.outputLen ?? 256,
          rangeRatio: g.rangeRatio ?? 1,
          ordered: g.ordered ?? false,
        },
        rng,
      );
    }
    default:
      return loadFileDataset(spec, baseDir, rng);
  }
}

async function loadFileDataset(spec: DatasetSpec, baseDir: string, rng: ReturnType<typeof createRng>): Promise<DatasetRow[]> {
  if (!spec.path) throw new DatasetError(`Dataset "${spec.name}" reads a local file; no path was given`, undefined, 'Add `path:` (relative to the notebook) pointing at the file.');
  const file = path.resolve(baseDir, spec.path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new DatasetError(`Cannot read dataset file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file, 'Check the path; relative paths start at the notebook folder.');
  }
  const fileOpts = { numPrompts: spec.numPrompts, outputLen: spec.outputLen ?? 256 };
  let rows: DatasetRow[];
  switch (spec.name) {
    case 'sharegpt': {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new DatasetError(`Not valid JSON: ${jsonFailure(err)}`, file);
      }
      rows = shareGptDataset(json, { numPrompts: spec.numPrompts, outputLen: spec.sharegptOutputLen, contextLen: spec.sharegptContextLen }, rng, file);
      break;
    }
    case 'gsm8k':
      rows = gsm8kDataset(text, fileOpts, file);
      break;
    case 'mmlu':
      rows = mmluDataset(text, fileOpts, file);
      break;
    case 'alpaca-eval':
      rows = alpacaDataset(text, fileOpts, file);
      break;
    case 'jsonl':
      rows = jsonlDataset(text, fileOpts, file);
      break;
    default:
      throw new DatasetError(`Unknown dataset "${spec.name}"`, file);
  }
  if (rows.length === 0) throw new DatasetError('The dataset file yielded no usable prompt', file);
  return rows;
}
