import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { errorText } from '../../core/output/error-markdown';
import { IMPORT_SOURCES, type ImportSource } from '../../core/results/importers';
import { buildReport, EXPORT_FORMATS, renderExport, reportDoc, selectRuns, type ExportFormat, type Selection } from '../../core/report';
import { TOOL_VERSION } from '../version';

const USAGE = `Usage: moebench report [--runs DIR] [--import FILE ...] [--baseline NAME] --format md|csv|html [-o FILE]

Compares stored runs (ours) and other tools' result files side by side, with deltas against a
baseline, spread over repeats, sweep curves, the Pareto chart and energy per token.

Runs:
  --runs DIR            run store (default ./.moebench/runs)
  --compare NAME        runs with this name (a bench cell name or CLI label); repeatable.
                        Without --compare/--run-id/--tag: every run in the store
  --run-id ID           one run; repeatable
  --tag K=V             runs tagged K=V; repeatable (all must match)
  --import FILE[=LABEL] SGLang bench_serving JSONL, vllm bench serve JSON, AIPerf
                        profile_export_aiperf.json or GuideLLM benchmarks.json; repeatable.
                        The format is detected; LABEL renames the file's series
  --import-format F     force the format of every --import (${IMPORT_SOURCES.join(', ')})
Comparison:
  --baseline NAME       series the others are compared with (default: the first)
  --gpus N              GPUs per run when launch commands do not say (per-GPU throughput, Pareto)
  --title TEXT
Output:
  --format md|csv|html  default md; html is self-contained (Plotly inlined, opens offline)
  -o, --output FILE     write there instead of stdout
Exit status: 0 written, 1 nothing comparable or a bad file, 2 usage.`;

class UsageError extends Error {}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

export async function reportCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        runs: { type: 'string' },
        compare: { type: 'string', multiple: true },
        'run-id': { type: 'string', multiple: true },
        tag: { type: 'string', multiple: true },
        import: { type: 'string', multiple: true },
        'import-format': { type: 'string' },
        baseline: { type: 'string' },
        gpus: { type: 'string' },
        title: { type: 'string' },
        format: { type: 'string' },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`moebench report: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let format: ExportFormat;
  let selection: Selection;
  let gpus: number | undefined;
  const storeDir = path.resolve(values.runs ?? path.join('.moebench', 'runs'));
  try {
    format = (values.format ?? 'md') as ExportFormat;
    if (!EXPORT_FORMATS.includes(format)) throw new UsageError(`--format: md, csv or html (got ${values.format})`);
    const importFormat = values['import-format'] as ImportSource | undefined;
    if (importFormat !== undefined && !IMPORT_SOURCES.includes(importFormat)) throw new UsageError(`--import-format: one of ${IMPORT_SOURCES.join(', ')}`);
    if (values.gpus !== undefined) {
      gpus = Number(values.gpus);
      if (!Number.isInteger(gpus) || gpus <= 0) throw new UsageError('--gpus takes a positive integer');
    }
    const tags: Record<string, string> = {};
    for (const kv of values.tag ?? []) {
      const i = kv.indexOf('=');
      if (i <= 0) throw new UsageError(`--tag takes KEY=VALUE (got ${kv})`);
      tags[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const imports = (values.import ?? []).map((spec) => {
      // FILE=LABEL, unless the whole thing is an existing path with "=" in its name
      const i = spec.lastIndexOf('=');
      return i > 0 ? { path: path.resolve(spec.slice(0, i)), label: spec.slice(i + 1) || undefined, format: importFormat } : { path: path.resolve(spec), format: importFormat };
    });
    const chosen = (values.compare?.length ?? 0) + (values['run-id']?.length ?? 0) + Object.keys(tags).length > 0;
    const haveStore = await isDir(storeDir);
    if (!haveStore && (chosen || values.runs !== undefined)) throw new UsageError(`--runs: no run store at ${storeDir}`);
    if (!haveStore && imports.length === 0) throw new UsageError(`Nothing to report: no run store at ${storeDir} and no --import`);
    selection = { compare: values.compare, runs: values['run-id'], tags: Object.keys(tags).length ? tags : undefined, all: !chosen && haveStore, history: true, imports };
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`moebench report: ${err.message}\n\nRun "moebench report --help" for the options.\n`);
      return 2;
    }
    throw err;
  }
  try {
    const { runs, skipped } = await selectRuns(selection, { storeDir, baseDir: process.cwd(), gpus });
    for (const s of skipped) process.stderr.write(`moebench report: left out ${s.what}: ${s.reason}\n`);
    if (runs.length === 0) {
      process.stderr.write('moebench report: no comparable runs\n');
      return 1;
    }
    const model = buildReport(runs, { title: values.title ?? `Comparison: ${[...new Set(runs.map((r) => r.series))].join(' vs ')}`, baseline: values.baseline, skipped });
    if (values.baseline !== undefined && model.baseline === null) {
      process.stderr.write(`moebench report: --baseline "${values.baseline}" is not among the compared runs (${[...new Set(runs.map((r) => r.series))].join(', ')})\n`);
      return 2;
    }
    const text = await renderExport(format, model, reportDoc(model), { toolVersion: TOOL_VERSION, generatedAt: new Date().toISOString() });
    if (values.output) {
      const file = path.resolve(values.output);
      await mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, text, 'utf8');
      await rename(tmp, file);
      process.stderr.write(`moebench report: wrote ${file} (${model.rows.length} rows, ${runs.length} runs)\n`);
    } else {
      process.stdout.write(text);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`moebench report: ${errorText(err)}\n`);
    return 1;
  }
}
