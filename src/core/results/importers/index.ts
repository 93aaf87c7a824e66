/**
 * Importers of other tools' results into the one run schema (RunMeta + RunResultFile), so runs
 * made with SGLang's bench_serving, vllm bench serve, AIPerf or GuideLLM compare with ours.
 * The tools' numbers are kept as reported; only field names and units are mapped.
 */
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { importAiperf } from './aiperf';
import { detectFormat } from './detect';
import { ImportFormatError } from './errors';
import { importGuidellm } from './guidellm';
import { importSglangBenchServing } from './sglang-bench-serving';
import { IMPORT_SOURCES, SOURCE_NAMES, type ImportContext, type ImportedRun, type ImportSource } from './types';
import { importVllmBenchServe } from './vllm-bench-serve';

export { detectFormat } from './detect';
export { ImportFormatError } from './errors';
export { storeImportedRun } from './store';
export { importedDerived } from './records';
export { IMPORT_SOURCES, SOURCE_NAMES, isImportedMeta, type ImportContext, type ImportedRun, type ImportedRunMeta, type ImportSource } from './types';

const IMPORTERS: Record<ImportSource, (text: string, file: string, ctx: ImportContext) => ImportedRun[]> = {
  'sglang-bench-serving': importSglangBenchServing,
  'vllm-bench-serve': importVllmBenchServe,
  aiperf: importAiperf,
  guidellm: importGuidellm,
};

/**
 * Import result text; `format` overrides the detector. `file` names the source in errors and meta;
 * `ctx` adds what only the file system knows (its mtime, the files next to it).
 */
export function importText(text: string, file: string, format?: ImportSource, ctx: ImportContext = {}): ImportedRun[] {
  const kind = format ?? detectFormat(text);
  if (!kind) {
    throw new ImportFormatError(
      'Cannot tell which tool wrote this file',
      { file },
      `Supported: ${SUPPORTED_FILES}; give the format explicitly if the file is one of them.`,
    );
  }
  return IMPORTERS[kind](text, file, ctx);
}

/** the files and versions each importer reads (tested against files those tools wrote or their writer code) */
export const SUPPORTED_FILES = [
  'SGLang bench_serving --output-file JSONL (single-file bench_serving.py and python/sglang/benchmark/serving.py, with or without --output-details)',
  'vLLM benchmark_serving.py / vllm bench serve --save-result JSON (also --append-result, --save-detailed)',
  'AIPerf profile_export_aiperf.json (0.1.x "records" layout and the later flat layout), profile_export_aiperf.csv, profile_export.jsonl',
  'GuideLLM benchmarks.json or .yaml (0.3 args/run_stats layout and the ≥0.4 config/scheduler_metrics layout)',
].join('; ');

/** siblings bigger than this are not read (a per-request export of a huge run is not worth a stall) */
const MAX_SIBLING_BYTES = 256 * 1024 * 1024;

export async function importFile(file: string, format?: ImportSource): Promise<ImportedRun[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ImportFormatError(`Cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file }, 'Check the path (relative paths start at the notebook folder).');
  }
  const dir = path.dirname(file);
  const mtime = await stat(file).then(
    (st) => st.mtime,
    () => undefined,
  );
  const sibling = (name: string): string | undefined => {
    try {
      const text = readFileSync(path.join(dir, name), 'utf8');
      return text.length <= MAX_SIBLING_BYTES ? text : undefined;
    } catch {
      return undefined;
    }
  };
  return importText(text, file, format, { mtime, sibling });
}
