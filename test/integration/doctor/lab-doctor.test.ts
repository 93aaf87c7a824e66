import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { startLab } from '../../lab/lab';
import { labCluster, recordingHost } from '../ssh/helpers';
import { runDoctor } from '../../../src/core/doctor/doctor';
import { quoteArg } from '../../../src/core/launch/shell/shell-quote';

const FIXTURES = path.join(__dirname, '../../fixtures');

test('doctor over real OpenSSH on the lab: nodes answer with real H200 nvidia-smi captures and ibstat layouts; node3 (a dead IB port, an inactive NVLink, sglang 0.5.14) is the one named', async () => {
  const lab = await startLab({ nodes: 3 });
  try {
    // the nodes run as the lab user: give them their own readable copy of the fixtures
    const fx = path.join(lab.dir, 'doctor-fixtures');
    await mkdir(fx, { recursive: true });
    await chmod(fx, 0o755);
    for (const f of ['nvidia-smi/h200x2/q.xml', 'nvidia-smi/h200x2/topo.txt', 'nvidia-smi/h200x2/nvlink-s.txt', 'doctor/ibstat-2x400.txt', 'doctor/ibstat-port-down.txt']) {
      const to = path.join(fx, path.basename(f));
      await copyFile(path.join(FIXTURES, f), to);
      await chmod(to, 0o644);
    }
    const q = (name: string) => quoteArg(path.join(fx, name));
    const shims: [string, string][] = [
      [
        'nvidia-smi',
        `#!/bin/sh
case "$*" in
  "-q -x") exec cat ${q('q.xml')} ;;
  "topo -m") exec cat ${q('topo.txt')} ;;
  "nvlink -s") if [ "$NODE_NAME" = node3 ]; then sed 's/Link 5: 26.562 GB\\/s/Link 5: <inactive>/' ${q('nvlink-s.txt')}; else cat ${q('nvlink-s.txt')}; fi ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
`,
      ],
      ['ibstat', `#!/bin/sh\nif [ "$NODE_NAME" = node3 ]; then exec cat ${q('ibstat-port-down.txt')}; fi\nexec cat ${q('ibstat-2x400.txt')}\n`],
      // only the doctor's version query reaches python3 in this test
      ['python3', `#!/bin/sh\nif [ "$NODE_NAME" = node3 ]; then echo 0.5.14; else echo 0.5.15; fi\n`],
    ];
    for (const [name, text] of shims) {
      const p = path.join(lab.shimDir, name);
      await writeFile(p, text);
      await chmod(p, 0o755);
    }
    const cluster = await labCluster(lab, ['node1', 'node2', 'node3'], recordingHost(), { gpusPerNode: 2 });
    try {
      const report = await runDoctor(cluster, { modelPath: '/tmp' });
      const diff = report.mismatches.map((m) => `${m.node}:${m.key}:${m.value}`).sort();
      assert.deepEqual(diff, ['node3:engine:0.5.14', 'node3:ibPorts:1/2', 'node3:ibRate:400 Gb/s, 10 Gb/s', 'node3:nvlink:34/36 (26.562 GB/s)']); // link 5 of both GPUs
      for (const n of report.nodes) {
        const row = (k: string) => n.rows.find((r) => r.key === k);
        assert.equal(row('gpus')?.value, '2', n.node);
        assert.equal(row('driver')?.value, '580.159.04');
        assert.equal(row('ibLinkLayer')?.value, 'InfiniBand');
        assert.match(row('disk')?.value ?? '', /GiB on \//);
      }
      const n3 = report.nodes.find((n) => n.node === 'node3');
      assert.equal(n3?.rows.find((r) => r.key === 'ibPorts')?.level, 'error');
      assert.match(n3?.rows.find((r) => r.key === 'ibPorts')?.note ?? '', /mlx5_1\/1 Down \(Polling\)/);
    } finally {
      await cluster.dispose();
    }
  } finally {
    await lab.stop();
  }
});
