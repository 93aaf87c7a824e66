import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { errorText } from '../../core/output/error-markdown';
import { importFile, IMPORT_SOURCES, SOURCE_NAMES, storeImportedRun, type ImportSource } from '../../core/results/importers';

const USAGE = `Usage: moebench import FILE... [--runs DIR] [--format F] [--name NAME]

Reads other tools' result files into the run store, so reports and the runs view treat them
like MoE Bench runs: SGLang bench_serving JSONL, vLLM benchmark_serving.py / vllm bench serve
JSON, AIPerf profile_export_aiperf.json / .csv / profile_export.jsonl, GuideLLM benchmarks.json
or .yaml. The format is detected from the content. Per-request data (--save-detailed,
--output-details, profile_export.jsonl) is stored as the run's requests.jsonl.

  --runs DIR    run store (default ./.moebench/runs)
  --format F    force the format (${IMPORT_SOURCES.join(', ')})
  --name NAME   store the runs under this name (what reports compare by)
Exit status: 0 imported, 1 a file could not be read or recognised, 2 usage.`;

export async function importCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { runs: { type: 'string' }, format: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    process.stderr.write(`moebench import: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const format = values.format as ImportSource | undefined;
  if (positionals.length === 0 || (format !== undefined && !IMPORT_SOURCES.includes(format))) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const storeDir = path.resolve(values.runs ?? path.join('.moebench', 'runs'));
  let failures = 0;
  for (const file of positionals) {
    try {
      const runs = await importFile(path.resolve(file), format);
      for (const run of runs) {
        if (values.name) run.meta.name = values.name;
        const dir = await storeImportedRun(storeDir, run);
        process.stdout.write(`${SOURCE_NAMES[run.meta.source]}: ${run.meta.name} · ${run.meta.step?.label ?? ''} -> ${dir}\n`);
      }
    } catch (err) {
      failures++;
      process.stderr.write(`moebench import: ${errorText(err)}\n`);
    }
  }
  return failures > 0 ? 1 : 0;
}
