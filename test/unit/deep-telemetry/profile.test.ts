import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdtemp, readFile, rm, copyFile, mkdir } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { LocalCluster } from '../../../src/core/launch/local/local-cluster';
import { kernelCategory, kernelStats, rankFromTraceName, readTraceEvents } from '../../../src/core/telemetry/deep/profile/chrome-trace';
import { profileRequestBody } from '../../../src/core/telemetry/deep/profile/api';
import { captureProfile } from '../../../src/core/telemetry/deep/profile/capture';
import { profileDocBlocks } from '../../../src/core/telemetry/deep/profile/report';
import { nsysProfileArgv } from '../../../src/core/telemetry/deep/profile/nsys';
import { FIXTURES } from './helpers';

const TRACE = path.join(FIXTURES, 'traces/1732000000-TP-3-DP-3-EP-3.trace.json.gz');

test('kernel names fall into GEMM / attention / all-to-all / other', () => {
  assert.equal(kernelCategory('void deep_gemm::fp8_gemm_kernel<128u>(...)'), 'gemm');
  assert.equal(kernelCategory('sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64'), 'gemm');
  assert.equal(kernelCategory('void flash::flash_fwd_splitkv_mla_kernel<...cutlass::bfloat16_t...>'), 'attention');
  assert.equal(kernelCategory('void deep_ep::internode_ll::dispatch<false, 3, 7168>(...)'), 'allToAll');
  assert.equal(kernelCategory('ncclDevKernel_AllReduce_Sum_bf16_RING_LL'), 'allToAll');
  assert.equal(kernelCategory('void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>>'), 'other');
});

test('a gzipped torch trace gives kernel time, its split and the top kernels; CPU ops are not GPU time', async () => {
  const stats = kernelStats(readTraceEvents(await readFile(TRACE)));
  assert.equal(stats.kernelEvents, 274);
  assert.equal(Math.round(stats.gpuKernelMs * 100) / 100, 13.42);
  assert.deepEqual(
    Object.fromEntries(Object.entries(stats.splitMs).map(([k, v]) => [k, Math.round(v * 100) / 100])),
    { gemm: 5.2, attention: 3.2, allToAll: 4.52, other: 0.5 },
  );
  assert.match(stats.topKernels[0].name, /deep_gemm/);
  assert.equal(stats.topKernels[0].count, 40);
  assert.equal(rankFromTraceName(TRACE), 'TP-3-DP-3-EP-3');
  assert.equal(rankFromTraceName('/tmp/x/worker.pt.trace.json'), 'worker');
  assert.throws(() => readTraceEvents(Buffer.from('{"nope": 1}')), /no traceEvents/);
});

test('the profile request body uses SGLang\'s ProfileReqInput names', () => {
  assert.deepEqual(profileRequestBody({ outputDir: '/tmp/p', numSteps: 5, recordShapes: true }), { output_dir: '/tmp/p', num_steps: 5, activities: ['CPU', 'GPU'], record_shapes: true });
});

test('nsys wraps a rank argv and records only between cudaProfilerStart/Stop', () => {
  assert.deepEqual(nsysProfileArgv(['python3', '-m', 'sglang.launch_server', '--tp', '8'], { output: '/tmp/nsys/decode-0' }), [
    'nsys', 'profile', '-o', '/tmp/nsys/decode-0', '--trace=cuda,nvtx,osrt', '--force-overwrite=true', '--capture-range=cudaProfilerApi', '--capture-range-end=stop', 'python3', '-m', 'sglang.launch_server', '--tp', '8',
  ]);
  assert.throws(() => nsysProfileArgv(['x'], { output: 'o', trace: ['cuda;rm'] }));
});

test('capture: start and stop every server around the step, copy each rank\'s trace into the run store, summarise it', async () => {
  const work = await mkdtemp(path.join(os.tmpdir(), 'moebench-prof-'));
  const runDir = path.join(work, 'run');
  await mkdir(runDir);
  const calls: { path: string; body: string }[] = [];
  // a server that behaves like SGLang's: start_profile with output_dir, the trace appears after stop_profile
  let outDir = '';
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      calls.push({ path: req.url ?? '', body });
      if (req.url === '/start_profile') outDir = (JSON.parse(body) as { output_dir: string }).output_dir;
      if (req.url === '/stop_profile') {
        void mkdir(outDir, { recursive: true }).then(() => copyFile(TRACE, path.join(outDir, path.basename(TRACE))));
      }
      res.end(req.url === '/start_profile' ? 'Start profiling.\n' : 'Stop profiling. This will take some time.\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const res = await captureProfile({ cluster: new LocalCluster('local', 0), targets: [{ endpoint: 'decode-0', url, nodes: ['local'] }], runDir, traceDir: path.join(work, 'traces'), settleTimeoutMs: 5000 }, async () => 'step result');
    assert.equal(res.result, 'step result');
    assert.deepEqual(calls.map((c) => c.path), ['/start_profile', '/stop_profile']);
    assert.equal(res.summaries.length, 1);
    const s = res.summaries[0];
    assert.equal(s.rank, 'TP-3-DP-3-EP-3');
    assert.equal(s.traceFile, 'profiles/decode-0_local/1732000000-TP-3-DP-3-EP-3.trace.json.gz');
    assert.deepEqual(await readFile(path.join(runDir, s.traceFile)), await readFile(TRACE), 'the gzip bytes survive the trip');
    const blocks = profileDocBlocks(res.summaries, runDir);
    assert.equal(blocks[0].type, 'table');
    if (blocks[0].type === 'table') assert.deepEqual(blocks[0].rows[0].slice(3), [13.4, 38.7, 23.8, 33.7, 3.7]);
    assert.ok(blocks[2].type === 'text' && blocks[2].text.includes('ui.perfetto.dev'));
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    await rm(work, { recursive: true, force: true });
  }
});
