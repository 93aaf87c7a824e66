import { z } from 'zod';
import { IMPORT_SOURCES } from '../results/importers';
import { EXPORT_FORMATS } from '../report';
import { nameSchema } from '../util/name-schema';

const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1)]);

export const reportSpecSchema = z
  .object({
    name: nameSchema.optional().describe('names the export files (.moebench/reports/<name>.<ext>); default: the cell name'),
    title: z.string().optional(),
    compare: oneOrMany(z.string().min(1)).optional().describe("bench cell names: this session's latest runs of the cell, else every stored run with that name"),
    runs: z.array(z.string().min(1)).optional().describe('run ids (folder names under .moebench/runs/)'),
    tags: z.record(z.string(), z.string()).optional().describe('every stored run whose tags include all of these'),
    all: z.boolean().default(false).describe('every run in the store'),
    history: z.boolean().default(false).describe('resolve names against every stored run (repeats show as spread), not only this session'),
    import: z
      .array(
        z.union([
          z.string().min(1),
          z.object({ path: z.string().min(1), label: z.string().min(1).optional(), format: z.enum(IMPORT_SOURCES).optional() }).strict(),
        ]),
      )
      .optional()
      .describe('result files of SGLang bench_serving (JSONL), vllm bench serve (JSON), AIPerf (profile_export_aiperf.json) or GuideLLM (benchmarks.json), relative to the notebook'),
    baseline: z.string().optional().describe('the series the others are compared with (a bench cell name, an imported label, or a run id); default: the first'),
    gpus: z.union([z.number().int().positive(), z.record(z.string(), z.number().int().positive())]).optional().describe('GPUs per run, for per-GPU throughput and the Pareto chart: one number for runs whose launch commands do not tell, or { <name or run id>: N } to set it outright'),
    export: z.array(z.enum(EXPORT_FORMATS)).default([]).describe('md, csv, html: written to .moebench/reports/<name>.<ext> next to the notebook'),
  })
  .strict();

export type ReportSpec = z.output<typeof reportSpecSchema>;
