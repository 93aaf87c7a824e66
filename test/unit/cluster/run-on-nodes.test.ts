import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runOnNodes, selectNodes, type NodeLine } from '../../../src/core/launch/run-on-nodes';
import type { Cluster, ClusterNodeInfo, ExecOptions, ExecResult } from '../../../src/core/launch/types';
import { CellReferenceError, CommandFailedError } from '../../../src/core/util/errors';
import { noLauncher } from '../no-launcher';

/** A cluster whose nodes "run" a script of timed output chunks; node gpu-3 is unreachable. */
function scriptedCluster(): Cluster {
  const nodes: ClusterNodeInfo[] = ['gpu-1', 'gpu-2', 'gpu-3'].map((name) => ({ name, address: name, gpus: 8 }));
  return {
    name: 'fake',
    kind: 'sim',
    launcher: noLauncher,
    nodes,
    node(name: string) {
      const n = nodes.find((x) => x.name === name);
      if (!n) throw new CellReferenceError(`no node ${name}`, { node: name });
      return n;
    },
    async exec(node: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
      if (node === 'gpu-3') throw new CommandFailedError('Connection refused', { node });
      // chunks split lines in awkward places, as network reads do
      for (const chunk of [`${node} says `, `${argv.join(' ')}\nsecond`, ' line\nno newline at end']) {
        await new Promise((r) => setTimeout(r, node === 'gpu-1' ? 5 : 1));
        options.onStdout?.(chunk);
      }
      options.onStderr?.('warn\n');
      return { exitCode: node === 'gpu-2' ? 1 : 0, signal: null, stdout: '', stderr: '' };
    },
    async httpEndpoint() {
      return 'http://127.0.0.1:1';
    },
    connectionState: () => ({ state: 'connected' }),
    dispose() {},
  };
}

describe('runOnNodes (shellscript cells on several nodes)', () => {
  it('runs on every node in parallel and tags whole lines with their node', async () => {
    const lines: NodeLine[] = [];
    const results = await runOnNodes(scriptedCluster(), 'all', ['nvidia-smi', '-L'], { onLine: (l) => lines.push(l) });
    assert.deepEqual(
      results.map((r) => [r.node, r.ok, r.ok ? r.result.exitCode : String(r.error)]),
      [
        ['gpu-1', true, 0],
        ['gpu-2', true, 1],
        ['gpu-3', false, 'CommandFailedError: Connection refused'],
      ],
    );
    const of = (node: string): string[] => lines.filter((l) => l.node === node).map((l) => `${l.stream}: ${l.line}`);
    const expected = (node: string): string[] => [`stdout: ${node} says nvidia-smi -L`, 'stdout: second line', 'stderr: warn', 'stdout: no newline at end'];
    assert.deepEqual(of('gpu-1'), expected('gpu-1'));
    assert.deepEqual(of('gpu-2'), expected('gpu-2'));
    // gpu-2 is faster, so its lines interleave before gpu-1 finishes: it really ran in parallel
    const lastOfGpu1 = lines.map((l) => l.node).lastIndexOf('gpu-1');
    assert.ok(lines.findIndex((l) => l.node === 'gpu-2') < lastOfGpu1);
  });

  it('selects named nodes in cluster order and refuses unknown names before running anything', () => {
    const c = scriptedCluster();
    assert.deepEqual(selectNodes(c, ['gpu-3', 'gpu-1']), ['gpu-1', 'gpu-3']);
    assert.throws(() => selectNodes(c, ['gpu-9']), CellReferenceError);
    assert.throws(() => selectNodes(c, []), /No nodes selected/);
  });
});
