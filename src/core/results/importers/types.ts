import type { RequestRecord } from '../../metrics/record';
import type { RunMeta, RunResultFile } from '../types';

/** Tools whose result files MoE Bench reads into its own run schema. */
export const IMPORT_SOURCES = ['sglang-bench-serving', 'vllm-bench-serve', 'aiperf', 'guidellm'] as const;
export type ImportSource = (typeof IMPORT_SOURCES)[number];

export const SOURCE_NAMES: Record<ImportSource, string> = {
  'sglang-bench-serving': 'SGLang bench_serving',
  'vllm-bench-serve': 'vLLM bench serve',
  aiperf: 'NVIDIA AIPerf',
  guidellm: 'GuideLLM',
};

/**
 * meta.json of an imported run: the one RunMeta, plus where it came from. Provenance the tool
 * did not record (client host, seeds) is left "unknown"/0 — `source` tells readers not to trust
 * those fields as measured.
 */
export interface ImportedRunMeta extends RunMeta {
  source: ImportSource;
  importedFrom: { file: string; index: number; toolVersion?: string };
  /** how the tool defines the numbers that landed in our fields, one line each (shown in reports) */
  definitionNotes: string[];
  /** the tool's numbers that have no place in RunSummary, kept under the tool's own names */
  extras: Record<string, number | string | null>;
}

export interface ImportedRun {
  meta: ImportedRunMeta;
  /**
   * RunResultFile with the tool's numbers as reported. `client` is NaN throughout (not measured
   * by us; null once written as JSON); `series` is empty unless the tool kept per-second data.
   */
  result: RunResultFile;
  /**
   * The tool's per-request data (vLLM --save-detailed, bench_serving --output-details, AIPerf
   * profile_export.jsonl) as our request records, one chunk per token gap the tool timed: stored
   * as requests.jsonl, so TTFT/ITL CDFs and the record-based validity checks work as for our runs.
   */
  records?: RequestRecord[];
}

/** What the importers may know besides the text: the file's mtime, and files next to it. */
export interface ImportContext {
  /** modification time of the file (the run's date when the tool wrote none) */
  mtime?: Date;
  /** text of a file in the same folder, undefined when there is none */
  sibling?: (name: string) => string | undefined;
}

export function isImportedMeta(meta: RunMeta): meta is ImportedRunMeta {
  const src = (meta as Partial<ImportedRunMeta>).source;
  return typeof src === 'string' && (IMPORT_SOURCES as readonly string[]).includes(src);
}
