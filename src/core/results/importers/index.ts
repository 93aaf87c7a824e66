/**
 * Importers of other tools' results into the one run schema (RunMeta + RunResultFile), so runs
 * made with SGLang's bench_serving, vllm bench serve, AIPerf or GuideLLM compare with ours.
 * The tools' numbers are kept as reported; only field names and units are mapped.
 */
import { readFile } from 'node:fs/promises';
import { importAiperf } from './aiperf';
import { detectFormat } from './detect';
import { ImportFormatError } from './errors';
import { importGuidellm } from './guidellm';
import { importSglangBenchServing } from './sglang-bench-serving';
import { IMPORT_SOURCES, SOURCE_NAMES, type ImportedRun, type ImportSource } from './types';
import { importVllmBenchServe } from './vllm-bench-serve';

export { detectFormat } from './detect';
export { ImportFormatError } from './errors';
export { storeImportedRun } from './store';
export { IMPORT_SOURCES, SOURCE_NAMES, isImportedMeta, type ImportedRun, type ImportedRunMeta, type ImportSource } from './types';

const IMPORTERS: Record<ImportSource, (text: string, file: string) => ImportedRun[]> = {
  'sglang-bench-serving': importSglangBenchServing,
  'vllm-bench-serve': importVllmBenchServe,
  aiperf: importAiperf,
  guidellm: importGuidellm,
};

/** Import result text; `format` overrides the detector. `file` names the source in errors and meta. */
export function importText(text: string, file: string, format?: ImportSource): ImportedRun[] {
  const kind = format ?? detectFormat(text);
  if (!kind) {
    throw new ImportFormatError(
      'Cannot tell which tool wrote this file',
      { file },
      `Supported: ${IMPORT_SOURCES.map((s) => SOURCE_NAMES[s]).join(', ')} result files; give the format explicitly if the file is one of them.`,
    );
  }
  return IMPORTERS[kind](text, file);
}

export async function importFile(file: string, format?: ImportSource): Promise<ImportedRun[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ImportFormatError(`Cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file }, 'Check the path (relative paths start at the notebook folder).');
  }
  return importText(text, file, format);
}
