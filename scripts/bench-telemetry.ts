/**
 * Telemetry collection cost: parsing + aggregation for 96 GPUs (12 nodes × 8, one nvidia-smi
 * stream each) at 1 Hz plus 13 /metrics endpoints scraped once per second. Target < 2 % of one
 * core. Prints figures; asserts nothing.
 *
 *   node --import tsx scripts/bench-telemetry.ts [--seconds 600] [--live-seconds 15]
 *
 * 1. "tight loop": N simulated seconds of input processed back to back; CPU per simulated second.
 * 2. "live": the real collectors for a few wall seconds — GpuCollector on a cluster whose exec
 *    streams nvidia-smi lines every second, ServerMetricsCollector fetching 13 endpoints over
 *    loopback HTTP from a server in a child process (so only the client's CPU is counted).
 * 3. "watchers": three GpuCollectors on the same 12 nodes (the Cluster view, a monitor cell, a
 *    bench collect), once on the session's shared streams (GpuStreamRegistry) and once each with
 *    streams of its own: nvidia-smi commands started and CPU per second.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Cluster, ExecResult, Launcher } from '../src/core/launch/types';
import { GpuCollector } from '../src/core/telemetry/gpu/collector';
import { GpuStreamRegistry } from '../src/core/telemetry/gpu/shared-stream';
import { DEFAULT_STREAM_FIELDS } from '../src/core/telemetry/gpu/fields';
import { GpuStreamAssembler } from '../src/core/telemetry/gpu/stream';
import { ServerMetricsCollector } from '../src/core/telemetry/server/collector';
import { compareStates, parseServerMetrics, reduceScrape, type ServerState } from '../src/core/telemetry/server/normalize';
import { parsePrometheusText } from '../src/core/telemetry/server/prometheus';
import type { TelemetryRecord } from '../src/core/telemetry/schema';

const NODES = 12;
const GPUS_PER_NODE = 8;
const ENDPOINTS = 13;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** One node's tick: DEFAULT_STREAM_FIELDS, noheader, nounits, values as an H200 prints them. */
function nvidiaSmiTick(t: number): string {
  let out = '';
  for (let i = 0; i < GPUS_PER_NODE; i++) {
    const util = (t * 7 + i * 13) % 101;
    const power = (80 + util * 6.1 + (i % 3)).toFixed(2);
    // index, util.gpu, util.mem, mem.used, mem.total, power.draw, power.limit, temp.gpu, temp.mem, sm clk, mem clk, pstate, throttle, ecc
    out += `${i}, ${util}, ${Math.floor(util / 4)}, ${120000 + i}, 143771, ${power}, 700.00, ${40 + (util >> 2)}, ${38 + (util >> 3)}, ${util > 90 ? 1485 : 1980}, 3201, P0, ${util > 90 ? '0x0000000000000004' : '0x0000000000000000'}, 0\n`;
  }
  return out;
}

const DP = 8;
const TTFT = [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400];
const ITL = [0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.06, 0.08, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8];
const E2E = [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200, 1800, 2400];
const STAGE = Array.from({ length: 30 }, (_, i) => Math.round(0.001 * 1.5 ** i * 1e6) / 1e6);

/**
 * A large SGLang /metrics body: DP 8 scheduler gauges (every gauge of collector.py), tokenizer
 * counters and histograms, per-stage latency histograms for 8 stages, realtime token counters,
 * and python process metrics — bigger than most real servers' (an upper bound for the cost).
 */
function sglangMetrics(step: number): string {
  const lines: string[] = [];
  const model = 'deepseek-ai/DeepSeek-V3';
  const rank = (r: number) => `dp_rank="${r}",engine_type="decode",model_name="${model}",moe_ep_rank="${r}",pp_rank="0",tp_rank="0"`;
  const gauges = [
    'num_running_reqs', 'num_used_tokens', 'token_usage', 'pending_prealloc_token_usage', 'swa_token_usage', 'decode_sum_seq_lens',
    'gen_throughput', 'num_queue_reqs', 'num_grammar_queue_reqs', 'num_running_reqs_offline_batch', 'cache_hit_rate', 'max_total_num_tokens',
    'spec_accept_length', 'spec_accept_rate', 'num_retracted_reqs', 'num_paused_reqs', 'num_prefill_prealloc_queue_reqs',
    'num_prefill_inflight_queue_reqs', 'num_decode_prealloc_queue_reqs', 'num_decode_transfer_queue_reqs', 'kv_transfer_speed_gb_s',
    'kv_transfer_latency_ms', 'utilization', 'engine_startup_time', 'engine_load_weights_time', 'new_token_ratio', 'is_cuda_graph',
  ];
  for (const g of gauges) {
    lines.push(`# HELP sglang:${g} ${g.replace(/_/g, ' ')}.`, `# TYPE sglang:${g} gauge`);
    for (let r = 0; r < DP; r++) lines.push(`sglang:${g}{${rank(r)}} ${((step * 13 + r * 7) % 97) / (g === 'token_usage' ? 100 : 1)}`);
  }
  const tok = `engine_type="decode",model_name="${model}"`;
  for (const c of ['prompt_tokens', 'generation_tokens', 'cached_tokens', 'num_requests', 'num_so_requests', 'num_aborted_requests']) {
    lines.push(`# HELP sglang:${c}_total ${c}.`, `# TYPE sglang:${c}_total counter`, `sglang:${c}_total{${tok}} ${step * 1000 + 7}.0`);
  }
  lines.push('# TYPE sglang:realtime_tokens_total counter');
  for (let r = 0; r < DP; r++) for (const m of ['prefill_compute', 'prefill_cache', 'decode']) lines.push(`sglang:realtime_tokens_total{${rank(r)},mode="${m}"} ${step * 977 + r}.0`);
  const hist = (name: string, le: number[], labels: string, scale: number) => {
    lines.push(`# HELP ${name} histogram.`, `# TYPE ${name} histogram`);
    let cum = 0;
    for (const b of le) {
      cum += Math.floor((step * scale) / le.length);
      lines.push(`${name}_bucket{${labels},le="${b}"} ${cum}.0`);
    }
    lines.push(`${name}_bucket{${labels},le="+Inf"} ${cum}.0`, `${name}_count{${labels}} ${cum}.0`, `${name}_sum{${labels}} ${cum * 0.1}`);
  };
  hist('sglang:time_to_first_token_seconds', TTFT, tok, 50);
  hist('sglang:inter_token_latency_seconds', ITL, tok, 5000);
  hist('sglang:e2e_request_latency_seconds', E2E, tok, 50);
  for (let r = 0; r < DP; r++) hist('sglang:queue_time_seconds', E2E, rank(r), 10);
  for (const stage of ['prefill_waiting', 'prefill_bootstrap', 'prefill_forward', 'prefill_transfer_kv_cache', 'decode_prepare', 'decode_bootstrap', 'decode_waiting', 'decode_transferred']) {
    hist('sglang:per_stage_req_latency_seconds', STAGE, `${tok},stage="${stage}"`, 30);
  }
  for (const p of ['python_gc_objects_collected_total{generation="0"}', 'python_gc_objects_collected_total{generation="1"}', 'process_virtual_memory_bytes', 'process_resident_memory_bytes', 'process_cpu_seconds_total', 'process_open_fds']) {
    lines.push(`${p} ${step * 11}.0`);
  }
  return lines.join('\n') + '\n';
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function tightLoop(seconds: number): void {
  const nodeTicks = Array.from({ length: 10 }, (_, t) => nvidiaSmiTick(t));
  const bodies = Array.from({ length: 4 }, (_, i) => sglangMetrics(100 + i));
  const assemblers = Array.from({ length: NODES }, (_, n) => new GpuStreamAssembler({ node: `node${n}`, fields: DEFAULT_STREAM_FIELDS, onSample: (s) => records.push(s), now: () => 0 }));
  const prev: (ServerState | undefined)[] = new Array(ENDPOINTS).fill(undefined);
  let records: TelemetryRecord[] = [];
  let jsonBytes = 0;
  const oneSecond = (t: number) => {
    for (let n = 0; n < NODES; n++) assemblers[n].push(nodeTicks[(t + n) % nodeTicks.length]);
    for (let e = 0; e < ENDPOINTS; e++) {
      const state = reduceScrape(parseServerMetrics(bodies[(t + e) % bodies.length]), t * 1000);
      records.push(compareStates(prev[e], state, `ep${e}`));
      prev[e] = state;
    }
    // what the recorder does with them: one JSON line each
    for (const r of records) jsonBytes += JSON.stringify(r).length + 1;
    records = [];
  };
  for (let t = 0; t < 200; t++) oneSecond(t); // JIT warm-up
  jsonBytes = 0;
  const c0 = cpuMs();
  const w0 = performance.now();
  for (let t = 0; t < seconds; t++) oneSecond(t);
  const cpu = cpuMs() - c0;
  const wall = performance.now() - w0;
  const perSecMs = cpu / seconds;
  console.log(`tight loop: ${seconds} simulated seconds of ${NODES * GPUS_PER_NODE} GPUs + ${ENDPOINTS} endpoints`);
  console.log(`  /metrics body: ${(bodies[0].length / 1024).toFixed(1)} KiB, ${bodies[0].split('\n').length} lines; nvidia-smi tick per node: ${nodeTicks[0].length} bytes`);
  console.log(`  CPU per simulated second: ${perSecMs.toFixed(3)} ms  => ${(perSecMs / 10).toFixed(3)} % of one core (wall ${(wall / seconds).toFixed(3)} ms)`);
  console.log(`  telemetry.jsonl growth: ${(jsonBytes / seconds / 1024).toFixed(1)} KiB/s`);

  // parts, for where the time goes
  const body = bodies[0];
  const N = 2000;
  let c = cpuMs();
  for (let i = 0; i < N; i++) parsePrometheusText(body);
  const fullParse = (cpuMs() - c) / N;
  c = cpuMs();
  for (let i = 0; i < N; i++) parseServerMetrics(body);
  const filtered = (cpuMs() - c) / N;
  const s0 = reduceScrape(parseServerMetrics(bodies[0]), 0);
  const s1 = reduceScrape(parseServerMetrics(bodies[1]), 1000);
  c = cpuMs();
  for (let i = 0; i < N; i++) compareStates(s0, reduceScrape(parseServerMetrics(bodies[1]), 1000), 'e');
  const reduceCompare = (cpuMs() - c) / N - filtered;
  void s1;
  const a = new GpuStreamAssembler({ node: 'n', fields: DEFAULT_STREAM_FIELDS, onSample: () => undefined, now: () => 0 });
  c = cpuMs();
  for (let i = 0; i < N * 10; i++) a.push(nodeTicks[i % nodeTicks.length]);
  const gpuTick = (cpuMs() - c) / (N * 10);
  console.log(`  per /metrics scrape: full parse ${fullParse.toFixed(3)} ms, filtered parse ${filtered.toFixed(3)} ms, reduce+compare ${reduceCompare.toFixed(3)} ms`);
  console.log(`  per node tick (8 GPUs): ${(gpuTick * 1000).toFixed(1)} µs`);
}

async function live(seconds: number): Promise<void> {
  // the /metrics server lives in a child process so its CPU is not counted
  const bodies = [sglangMetrics(100), sglangMetrics(101)];
  const bodyFile = path.join(os.tmpdir(), `moebench-bench-metrics-${process.pid}.json`);
  fs.writeFileSync(bodyFile, JSON.stringify(bodies));
  const child = spawn(process.execPath, ['-e', `
    const http = require('node:http');
    const bodies = JSON.parse(require('node:fs').readFileSync(process.argv[1], 'utf8'));
    let n = 0;
    const s = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }); res.end(bodies[n++ % 2]); });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));
    process.on('SIGTERM', () => s.close(() => process.exit(0)));
  `, bodyFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('exit', () => reject(new Error('metrics server exited')));
    });
    const nodes = Array.from({ length: NODES }, (_, n) => ({ name: `node${n}`, address: '127.0.0.1', gpus: GPUS_PER_NODE }));
    const timers = new Set<ReturnType<typeof setInterval>>();
    const cluster: Cluster = {
      name: 'bench',
      kind: 'sim',
      // telemetry only: this cluster never launches a rank
      get launcher(): Launcher {
        throw new Error('the telemetry bench cluster launches nothing');
      },
      nodes,
      node: (name) => nodes.find((x) => x.name === name) ?? nodes[0],
      exec: (_node, _argv, options = {}) =>
        new Promise<ExecResult>((resolve) => {
          let t = 0;
          const timer = setInterval(() => options.onStdout?.(nvidiaSmiTick(t++)), 1000);
          timers.add(timer);
          options.signal?.addEventListener('abort', () => {
            clearInterval(timer);
            timers.delete(timer);
            resolve({ exitCode: null, signal: 'SIGTERM', stdout: '', stderr: '' });
          });
        }),
      httpEndpoint: async () => `http://127.0.0.1:${port}`,
      connectionState: () => ({ state: 'connected' }),
      dispose: () => undefined,
    };
    let gpuSamples = 0;
    let serverSamples = 0;
    const gpu = new GpuCollector({ cluster, nodes: nodes.map((n) => n.name), intervalMs: 1000, onSample: () => gpuSamples++ });
    const srv = new ServerMetricsCollector({
      endpoints: Array.from({ length: ENDPOINTS }, (_, e) => ({ name: `ep${e}`, url: `http://127.0.0.1:${port}` })),
      intervalMs: 1000,
      onSample: () => serverSamples++,
    });
    gpu.start();
    srv.start();
    await new Promise((r) => setTimeout(r, 2000)); // warm-up
    const c0 = cpuMs();
    const w0 = performance.now();
    const g0 = gpuSamples;
    const s0 = serverSamples;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpu = cpuMs() - c0;
    const wall = (performance.now() - w0) / 1000;
    await Promise.all([gpu.dispose(), srv.dispose()]);
    console.log(`live: ${wall.toFixed(1)} s wall, ${gpuSamples - g0} node ticks, ${serverSamples - s0} scrapes over loopback HTTP`);
    console.log(`  process CPU ${(cpu / wall).toFixed(2)} ms/s => ${(cpu / wall / 10).toFixed(2)} % of one core (includes fetch, timers, and the bench's idle event loop)`);
  } finally {
    child.kill('SIGTERM');
    fs.rmSync(bodyFile, { force: true });
  }
}

/** A cluster of NODES whose `nvidia-smi -lms` prints a tick a second; counts the commands started. */
function tickingCluster(): { cluster: Cluster; started: () => number } {
  const nodes = Array.from({ length: NODES }, (_, n) => ({ name: `node${n}`, address: '127.0.0.1', gpus: GPUS_PER_NODE }));
  let started = 0;
  const cluster: Cluster = {
    name: 'bench-watchers',
    kind: 'sim',
    get launcher(): Launcher {
      throw new Error('the telemetry bench cluster launches nothing');
    },
    nodes,
    node: (name) => nodes.find((x) => x.name === name) ?? nodes[0],
    exec: (_node, _argv, options = {}) =>
      new Promise<ExecResult>((resolve) => {
        started++;
        let t = 0;
        const timer = setInterval(() => options.onStdout?.(nvidiaSmiTick(t++)), 1000);
        options.signal?.addEventListener('abort', () => {
          clearInterval(timer);
          resolve({ exitCode: null, signal: 'SIGTERM', stdout: '', stderr: '' });
        });
      }),
    httpEndpoint: async () => 'http://127.0.0.1:1',
    connectionState: () => ({ state: 'connected' }),
    dispose: () => undefined,
  };
  return { cluster, started: () => started };
}

async function watchers(seconds: number, shared: boolean): Promise<void> {
  const { cluster, started } = tickingCluster();
  const streams = shared ? new GpuStreamRegistry() : undefined;
  let ticks = 0;
  const nodes = cluster.nodes.map((n) => n.name);
  const collectors = ['view', 'monitor', 'bench'].map(() => new GpuCollector({ cluster, nodes, intervalMs: 1000, streams, onSample: () => ticks++ }));
  for (const c of collectors) c.start();
  await new Promise((r) => setTimeout(r, 1500)); // warm-up
  const c0 = cpuMs();
  const w0 = performance.now();
  const t0 = ticks;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = cpuMs() - c0;
  const wall = (performance.now() - w0) / 1000;
  await Promise.all(collectors.map((c) => c.dispose()));
  await streams?.dispose();
  console.log(`  ${shared ? 'shared streams (session.gpuStreams)' : 'a stream per collector          '}: ${started()} nvidia-smi commands for ${NODES} nodes, ${ticks - t0} ticks delivered, process CPU ${(cpu / wall).toFixed(2)} ms/s`);
}

async function main(): Promise<void> {
  tightLoop(arg('--seconds', 600));
  const idle0 = cpuMs();
  await new Promise((r) => setTimeout(r, 3000));
  console.log(`baseline: this process idle ${((cpuMs() - idle0) / 3).toFixed(2)} ms CPU per s (subtract from "live")`);
  await live(arg('--live-seconds', 15));
  console.log('target: < 2 % of one core');
  console.log(`watchers: 3 collectors (view, monitor, bench) on the same ${NODES} nodes, 1 s interval`);
  await watchers(arg('--watch-seconds', 5), true);
  await watchers(arg('--watch-seconds', 5), false);
}

void main();
