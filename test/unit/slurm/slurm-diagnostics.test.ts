import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diagnoseCell } from '../../../src/core/lang/diagnose';

// What the language server shows on a slurm cluster cell and on a deploy cell that targets it:
// the same schema and planner the cells run, positioned on the YAML line.
const cluster = { id: 'c', language: 'moebench-cluster', text: ['name: hpc', 'kind: slurm', 'nodes: 4', 'partition: gpu', 'timeLimit: "2 hours"', 'container:', '  image: lmsysorg/sglang:latest', '  mounts: [/models]', ''].join('\n') };
const goodCluster = { id: 'c', language: 'moebench-cluster', text: ['name: hpc', 'kind: slurm', 'nodes: 4', 'partition: gpu', ''].join('\n') };

describe('language server on slurm cells', () => {
  test('a bad time limit and a mount without a target are flagged on their lines', () => {
    const d = diagnoseCell(cluster, [cluster]);
    assert.deepEqual(
      d.map((x) => [x.line, x.path.join('.'), x.severity]),
      [
        [5, 'timeLimit', 'error'],
        [8, 'container.mounts.0', 'error'],
      ],
    );
    assert.match(d[0].message, /Slurm time/);
    assert.match(d[1].message, /host:container/);
  });

  test('a deploy cell naming a node the allocation will not have is an error on its nodes line', () => {
    const deploy = {
      id: 'd',
      language: 'moebench-deploy',
      text: ['name: pd', 'cluster: hpc', 'model: /models/DeepSeek-V3', 'prefill:', '  nodes: [node1, node2]', 'decode:', '  nodes: [node3, node7]', 'router: { port: 8000 }', ''].join('\n'),
    };
    const d = diagnoseCell(deploy, [goodCluster, deploy]).filter((x) => x.severity === 'error');
    assert.ok(d.length > 0);
    assert.ok(d.some((x) => x.line === 7 && /node7/.test(x.message)), JSON.stringify(d.map((x) => [x.line, x.message])));
  });
});
