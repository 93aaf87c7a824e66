import type { Notebook } from './model';

/** What an empty .moebench file opens as: a runnable loop on the embedded simulator. */
export function starterNotebook(): Notebook {
  return {
    metadata: {},
    cells: [
      {
        kind: 'markdown',
        language: 'markdown',
        source: '# New MoE Bench notebook\n\nRun the cells below: the first starts an emulated cluster on this machine (no GPU needed); replace it with `kind: ssh` and your nodes to use a real cluster.',
      },
      { kind: 'code', language: 'moebench-cluster', source: 'name: local\nkind: local' },
      { kind: 'code', language: 'shellscript', source: '# nodes: all\nuname -a\nnvidia-smi -L || echo "no nvidia-smi on this node"' },
    ],
  };
}
