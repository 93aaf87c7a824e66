import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createSimCluster } from '../../../src/core/sim/cluster';
import { runDoctor } from '../../../src/core/doctor/doctor';
import { doctorText } from '../../../src/core/doctor/doc';

test('sim cluster with one node deliberately mismatched: the doctor names it (7 GPUs, sglang 0.5.9) through the real nvidia-smi shim and python3', async () => {
  const cluster = await createSimCluster({ name: 'doc', nodes: ['n1', 'n2', 'n3'], gpusPerNode: 8, nodeOverrides: { n3: { gpus: 7, sglangVersion: '0.5.9' } } });
  try {
    const report = await runDoctor(cluster, { ports: [30000] });
    const diff = report.mismatches.map((m) => `${m.node}:${m.key}:${m.value}:${m.majority}`);
    assert.ok(diff.includes('n3:gpus:7:8'), diff.join(' | '));
    assert.ok(diff.includes('n3:engine:0.5.9:0.5.15'), diff.join(' | '));
    assert.ok(report.mismatches.every((m) => m.node === 'n3'), 'only n3 differs');
    const n1 = report.nodes.find((n) => n.node === 'n1');
    const row = (k: string) => n1?.rows.find((r) => r.key === k);
    assert.equal(row('gpus')?.value, '8');
    assert.equal(row('driver')?.value, '580.159.04');
    assert.equal(row('gpuModel')?.value, 'NVIDIA H200');
    assert.equal(row('powerLimit')?.value, '700 W');
    assert.equal(report.nodes.find((n) => n.node === 'n3')?.rows.find((r) => r.key === 'gpus')?.level, 'error');
    process.stdout.write(doctorText('doc', report).split('\n').map((l) => `# ${l}`).join('\n') + '\n');
  } finally {
    await cluster.dispose();
  }
});
