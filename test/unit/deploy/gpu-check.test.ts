import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { LocalCluster } from '../../../src/core/launch/local/local-cluster';
import { checkNodeGpus, describeGpuCheck, parseComputeAppRows } from '../../../src/core/deploy/gpu-check';
import { pidsInGroups } from '../../../src/core/launch/shell/launcher';

const NVSMI = path.join(__dirname, '..', '..', 'fixtures', 'nvidia-smi');

/** the H200 capture (gpu_uuid, pid, process_name, used_memory) as our query prints it: no uuid, no header */
function asOurQuery(file: string): string {
  return readFileSync(path.join(NVSMI, file), 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.split(', ').slice(1).join(', '))
    .join('\n');
}

test('compute apps from a real H200x4 capture: one row per (process, GPU), pids and memory kept', () => {
  const rows = parseComputeAppRows(asOurQuery('h200x4/apps.csv'));
  assert.equal(rows.length, 5);
  assert.deepEqual([...new Set(rows.map((r) => r.pid))], [852, 853]);
  assert.deepEqual(rows[0], { pid: 852, processName: 'python3', usedMemory: '2156 MiB' });
});

test('a process name with commas stays whole; "No running processes found" is no rows', () => {
  assert.deepEqual(parseComputeAppRows('1234, python3 -c a,b, 10 MiB\n'), [{ pid: 1234, processName: 'python3 -c a,b', usedMemory: '10 MiB' }]);
  assert.deepEqual(parseComputeAppRows('No running processes found\n'), []);
  assert.deepEqual(parseComputeAppRows(''), []);
});

test('group members are found by process group id in ps output', () => {
  const ps = ['  100   100', '  101   100', '  102   100', '  200   200', '  300   100'].join('\n');
  assert.deepEqual(pidsInGroups(ps, [100]), [100, 101, 102, 300]);
  assert.deepEqual(pidsInGroups(ps, [999]), []);
});

test('a node without nvidia-smi: the check says so instead of failing', async () => {
  // PATH without nvidia-smi (this test machine has none anywhere; the preamble makes sure)
  const cluster = new LocalCluster('bare', 0, 'export PATH=/usr/bin:/bin');
  const c = await checkNodeGpus(cluster, 'local', [1]);
  assert.equal(c.result, 'no-nvidia-smi');
  assert.match(describeGpuCheck(c), /nvidia-smi is not installed on local; the GPU check was skipped/);
});

test('leftover processes of ours are reported with pid, name and memory; other apps are not ours', async () => {
  // an nvidia-smi stand-in that always lists pid 4242 (ours) and 77 (someone else's)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'moebench-smi-'));
  try {
    writeFileSync(path.join(dir, 'nvidia-smi'), '#!/bin/sh\necho "4242, python3, 70000 MiB"\necho "77, other, 100 MiB"\n');
    chmodSync(path.join(dir, 'nvidia-smi'), 0o755);
    const cluster = new LocalCluster('fake-gpu', 8, `export PATH="${dir}:$PATH"`);
    const c = await checkNodeGpus(cluster, 'local', [4242], { settleMs: 0 });
    assert.equal(c.result, 'leftover');
    assert.match(describeGpuCheck(c), /STILL ON THE GPUS: pid 4242 python3 \(70000 MiB\)/);
    const clean = await checkNodeGpus(cluster, 'local', [5], { settleMs: 0 });
    assert.equal(clean.result, 'clean');
    assert.match(describeGpuCheck(clean), /2 other compute apps/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
