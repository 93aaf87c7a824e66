import type { Notebook } from './model';

/** What an empty .moebench file opens as: a runnable loop on the embedded simulator. */
export function starterNotebook(): Notebook {
  return {
    metadata: {},
    cells: [
      {
        kind: 'markdown',
        language: 'markdown',
        source:
          '# New MoE Bench notebook\n\nRun All: the first cell starts an emulated cluster on this machine (no GPU, no SSH), the second deploys SGLang on it, the third benchmarks the deployment. Results are labelled simulated. For a real cluster, change the cluster cell to `kind: ssh` with your nodes.',
      },
      { kind: 'code', language: 'moebench-cluster', source: '# one emulated node with 8 GPUs, on loopback\nname: sim\nkind: sim\nnodes: 1\ngpusPerNode: 8' },
      {
        kind: 'code',
        language: 'moebench-deploy',
        source: 'name: tp8\ncluster: sim\nengine: { kind: sglang, version: "0.5.15" }\nmodel: /models/DeepSeek-V3\nservedModelName: deepseek-v3\nmodelHint: deepseek-v3\nserver: { enableMetrics: true }\nunified:\n  nodes: [node1]\n  parallel: { tp: 8 }',
      },
      {
        kind: 'code',
        language: 'moebench-bench',
        source: '# rangeRatio 1: every request exactly 512 in / 64 out\nname: first-bench\ntarget: tp8\nworkload: { dataset: random, inputLen: 512, outputLen: 64, rangeRatio: 1, numPrompts: 64, seed: 1 }\nload: { maxConcurrency: [4, 16] }\ncollect: [gpus, serverMetrics]',
      },
    ],
  };
}
