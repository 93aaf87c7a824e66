import type { Notebook, NotebookCell } from './model';

export type QuickEndpoint = { kind: 'sim' } | { kind: 'url'; url: string; api: 'generate' | 'completions' | 'chat' };

export interface QuickPreset {
  id: string;
  label: string;
  detail: string;
  yaml: string;
}

// SGLang's bench_serving draws random lengths uniform in [max(1, L·r), L]: its default range
// ratio 0 means [1, L] (1024 averaged ~512), not fixed lengths. The presets name exact lengths,
// so they ask for them: rangeRatio 1.
export const DATASET_PRESETS: readonly QuickPreset[] = [
  { id: 'chat-1k', label: 'random 1k in / 1k out', detail: 'SGLang bench_serving random, range ratio 1: every request exactly 1024 in / 1024 out', yaml: 'workload: { dataset: random, inputLen: 1024, outputLen: 1024, rangeRatio: 1, numPrompts: 200, seed: 1 }' },
  { id: 'decode-2k', label: 'random 2k in / 100 out', detail: "the SGLang team's decode benchmark shape (prefill-heavy), exact lengths (range ratio 1)", yaml: 'workload: { dataset: random, inputLen: 2000, outputLen: 100, rangeRatio: 1, numPrompts: 400, seed: 1 }' },
  { id: 'short', label: 'random 128 in / 128 out', detail: 'short requests, exact lengths (range ratio 1): stresses scheduling and the client', yaml: 'workload: { dataset: random, inputLen: 128, outputLen: 128, rangeRatio: 1, numPrompts: 500, seed: 1 }' },
];

export const LOAD_PRESETS: readonly QuickPreset[] = [
  { id: 'conc-sweep', label: 'concurrency sweep 1, 8, 32, 64', detail: 'closed loop: one run per step, one table', yaml: 'load: { maxConcurrency: [1, 8, 32, 64] }' },
  { id: 'rate-sweep', label: 'request-rate sweep 2, 8, 32 req/s', detail: 'Poisson arrivals: one run per step', yaml: 'load: { requestRate: [2, 8, 32] }' },
  { id: 'burst', label: 'everything at once', detail: 'request rate inf (bench_serving default)', yaml: 'load: { requestRate: inf }' },
];

/** The notebook "MoE Bench: Quick Benchmark..." creates: everything it ran is visible and re-runnable. */
export function quickBenchNotebook(endpoint: QuickEndpoint, dataset: QuickPreset, load: QuickPreset): Notebook {
  const cells: NotebookCell[] = [
    { kind: 'markdown', language: 'markdown', source: `# Quick benchmark\n\n${dataset.label}, ${load.label}, against ${endpoint.kind === 'sim' ? 'the embedded simulator (results are labelled simulated)' : endpoint.url}.` },
  ];
  let target: string;
  if (endpoint.kind === 'sim') {
    cells.push({ kind: 'code', language: 'moebench-cluster', source: 'name: sim\nkind: sim\nnodes: 1\ngpusPerNode: 8\nseed: 1' });
    cells.push({
      kind: 'code',
      language: 'moebench-deploy',
      source: 'name: sim-tp8\ncluster: sim\nengine: { kind: sglang, version: "0.5.15" }\nmodel: /models/DeepSeek-V3\nservedModelName: deepseek-v3\nmodelHint: deepseek-v3\nunified:\n  nodes: [node1]\n  parallel: { tp: 8 }',
    });
    target = 'sim-tp8';
  } else {
    target = endpoint.url;
  }
  const bench = [`name: quick-${dataset.id}-${load.id}`, `target: ${target}`];
  if (endpoint.kind === 'url') bench.push(`api: ${endpoint.api}`);
  bench.push(dataset.yaml, load.yaml);
  cells.push({ kind: 'code', language: 'moebench-bench', source: bench.join('\n') });
  return { metadata: {}, cells };
}
