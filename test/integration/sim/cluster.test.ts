import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { createSimCluster } from '../../../src/core/sim/cluster';
import type { Cluster } from '../../../src/core/launch/types';

// the shims call `node <cli> sim ...`; bundle just the sim command so the test does not depend
// on the full CLI build
let dir: string;
let cliPath: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, `import { simCommand } from ${JSON.stringify(resolve(__dirname, '../../../src/cli/commands/sim'))};\nconst argv = process.argv.slice(2);\nif (argv[0] !== 'sim') process.exit(2);\nsimCommand(argv.slice(1)).then((c) => process.exit(c));\n`);
  cliPath = join(dir, 'cli.js');
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: cliPath, logLevel: 'error' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function waitHealthy(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url + '/health')).status === 200) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} never became healthy`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function smiCsv(cluster: Cluster, node: string, args: string[]): Promise<string[][]> {
  const r = await cluster.exec(node, ['nvidia-smi', ...args]);
  assert.equal(r.exitCode, 0, r.stderr);
  return r.stdout.trim() === '' ? [] : r.stdout.trim().split('\n').map((l) => l.split(', '));
}

test('two emulated nodes serve the same port on their own addresses, with GPU telemetry for nvidia-smi', async () => {
  const cluster = await createSimCluster({ name: 'pair', nodes: ['gpu-a', 'gpu-b'], gpusPerNode: 8, cliPath, timeScale: 0.05 });
  const ac = new AbortController();
  try {
    const idle = await smiCsv(cluster, 'gpu-a', ['--query-gpu=index,memory.used,utilization.gpu', '--format=csv,noheader,nounits']);
    assert.equal(idle.length, 8);
    assert.ok(idle.every((g) => g[1] === '0'));
    const launch = (node: string) => cluster.exec(node, ['python3', '-m', 'sglang.launch_server', '--model-path', '/models/DeepSeek-V3', '--tp', '8', '--host', '0.0.0.0', '--port', '30000', '--enable-metrics'], { signal: ac.signal }).catch(() => undefined);
    const runs = [launch('gpu-a'), launch('gpu-b')];
    const a = await cluster.httpEndpoint('gpu-a', 30000);
    const b = await cluster.httpEndpoint('gpu-b', 30000);
    assert.notEqual(a, b);
    await waitHealthy(a);
    await waitHealthy(b);
    const res = (await (await fetch(a + '/generate', { method: 'POST', body: JSON.stringify({ text: 'hi', sampling_params: { max_new_tokens: 4, ignore_eos: true } }) })).json()) as { meta_info: { completion_tokens: number } };
    assert.equal(res.meta_info.completion_tokens, 4);
    // weights + KV pool show up as GPU memory of a python3 process on every GPU of the node
    await new Promise((r) => setTimeout(r, 2500));
    const busy = await smiCsv(cluster, 'gpu-a', ['--query-gpu=index,memory.used', '--format=csv,noheader,nounits']);
    assert.ok(busy.every((g) => Number(g[1]) > 80_000), JSON.stringify(busy));
    const apps = await smiCsv(cluster, 'gpu-b', ['--query-compute-apps=gpu_uuid,pid,process_name,used_gpu_memory', '--format=csv,noheader']);
    assert.equal(apps.length, 8);
    assert.ok(apps.every((p) => p[2] === 'python3' && / MiB$/.test(p[3])));
    // stopping the servers frees the GPUs
    ac.abort();
    await Promise.all(runs);
    const after = await smiCsv(cluster, 'gpu-a', ['--query-compute-apps=pid', '--format=csv,noheader']);
    assert.deepEqual(after, []);
  } finally {
    ac.abort();
    await cluster.dispose();
  }
});

test('a two-node instance: rank 0 serves HTTP once rank 1 joined over --dist-init-addr; flags errors exit 2', async () => {
  const cluster = await createSimCluster({ name: 'multi', nodes: ['n0', 'n1'], gpusPerNode: 8, cliPath, timeScale: 0.05 });
  const ac = new AbortController();
  try {
    const bad = await cluster.exec('n0', ['python3', '-m', 'sglang.launch_server', '--model-path', '/m', '--enable-deepep-moe']);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /error: unrecognized arguments: --enable-deepep-moe/);
    const dist = `${cluster.node('n0').address}:5757`;
    const args = (rank: number) => ['python3', '-m', 'sglang.launch_server', '--model-path', '/m', '--tp', '16', '--dp', '16', '--enable-dp-attention', '--moe-a2a-backend', 'deepep', '--nnodes', '2', '--node-rank', String(rank), '--dist-init-addr', dist, '--host', '0.0.0.0', '--port', '30000'];
    const r0 = cluster.exec('n0', args(0), { signal: ac.signal }).catch(() => undefined);
    const url0 = await cluster.httpEndpoint('n0', 30000);
    await new Promise((r) => setTimeout(r, 1000));
    await assert.rejects(fetch(url0 + '/health'), 'rank 0 waits for rank 1 before serving');
    const r1 = cluster.exec('n1', args(1), { signal: ac.signal }).catch(() => undefined);
    await waitHealthy(url0);
    await waitHealthy(await cluster.httpEndpoint('n1', 30000));
    const info = (await (await fetch(url0 + '/server_info')).json()) as { ep_size: number; nnodes: number };
    assert.equal(info.ep_size, 16);
    assert.equal(info.nnodes, 2);
    ac.abort();
    await Promise.all([r0, r1]);
  } finally {
    ac.abort();
    await cluster.dispose();
  }
});

test('dispose stops detached servers the nodes started', async () => {
  const cluster = await createSimCluster({ name: 'detached', nodes: ['solo'], gpusPerNode: 8, cliPath, timeScale: 0.05 });
  const url = await cluster.httpEndpoint('solo', 31000);
  try {
    const r = await cluster.exec('solo', ['sh', '-c', 'setsid nohup python3 -m sglang.launch_server --model-path /m --tp 8 --port 31000 --host 0.0.0.0 >server.log 2>&1 </dev/null &']);
    assert.equal(r.exitCode, 0);
    await waitHealthy(url);
  } finally {
    await cluster.dispose();
  }
  await assert.rejects(fetch(url + '/health'));
});
