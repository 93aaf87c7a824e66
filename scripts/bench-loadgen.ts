/**
 * Load-generator figures (issue 14). Prints figures; asserts nothing.
 * Run: node --import tsx scripts/bench-loadgen.ts [--quick] [--pin] [--only a,b] [--sims N] [--workers 1,2,4,8]
 *
 *   throughput  streamed tokens/s one load thread sustains against zero-cost emulators, with
 *               Node's http client, with our raw HTTP/1.1 client, and with a minimal raw-socket
 *               reader (the ceiling: hand-written request, a byte search per read, no records);
 *               then the whole engine (records, columns) on 1..N load threads
 *   poisson     Poisson rate fidelity: achieved rate, dispatch lag, client vs server failures
 *   accuracy    TTFT/ITL error against a paced emulator whose truth is exact (first token 200 ms
 *               after arrival, one every 20 ms) at 256 and 1,000 streams, closed loop over
 *               several waves, next to the raw-socket reader on the same load; whether the run
 *               was flagged client-saturated; and the same run with the client's loop stalled on
 *               purpose (the flag must come up)
 *   memory      a long run through the run store: peak RSS, and the summary recomputed from
 *               requests.jsonl equal to the engine's
 *
 * The emulators run in child processes, so this process's CPU is the client's alone. With --pin
 * (Linux, taskset) this process and every thread it starts run on core 0 and the emulators on the
 * other cores, as the issue's measurements were taken (client pinned to one core, the server on
 * another): on a small machine the client then never competes with the server for a core.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runBenchmark, type BenchmarkConfig } from '../src/core/bench/benchmark';
import { StreamClient } from '../src/core/load/http-client';
import { arrivalOffsets } from '../src/core/load/arrivals';
import { createRng } from '../src/core/load/rng';
import { RawStreamClient } from '../src/core/load/raw-http';
import { LoadRun, type RequestSender } from '../src/core/load/runner';
import type { ApiKind, DatasetRow } from '../src/core/metrics/record';
import { readRequests } from '../src/core/results';
import { computeMetrics } from '../src/core/metrics/summary';
import { percentile } from '../src/core/metrics/stats';

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(`--${name}`);
const PIN = flag('pin');
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};

// ---------------------------------------------------------------- child: one emulator process
if (args[0] === '--child-sim') {
  const options = JSON.parse(args[1]) as { zeroCost: boolean; seed: number; pace?: { ttftMs: number; itlMs: number } };
  void import('../src/core/sim').then(async ({ startSimServer }) => {
    const sim = await startSimServer({ ...options, port: 0 });
    process.stdout.write(JSON.stringify({ url: sim.url }) + '\n');
    process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));
  });
} else {
  void main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

interface SimProc {
  url: string;
  child: ChildProcess;
}

async function startSims(n: number, options: { zeroCost: boolean; pace?: { ttftMs: number; itlMs: number } }): Promise<SimProc[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      new Promise<SimProc>((resolve, reject) => {
        const argv = [...process.execArgv, process.argv[1], '--child-sim', JSON.stringify({ ...options, seed: i + 1 })];
        // --pin: the emulators on every core but the client's
        const child = PIN ? spawn('taskset', ['-c', `1-${Math.max(1, os.cpus().length - 1)}`, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
        let buf = '';
        child.stdout?.on('data', (d: Buffer) => {
          buf += d.toString();
          const nl = buf.indexOf('\n');
          if (nl >= 0) resolve({ url: (JSON.parse(buf.slice(0, nl)) as { url: string }).url, child });
        });
        child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
      }),
    ),
  );
}

async function stopSims(sims: SimProc[]): Promise<void> {
  await Promise.all(
    sims.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.child.removeAllListeners('exit');
          s.child.once('exit', () => resolve());
          s.child.kill('SIGTERM');
        }),
    ),
  );
}

/** spreads requests over several emulator processes, as a router would over servers */
class RoundRobin implements RequestSender {
  private i = 0;
  constructor(readonly clients: (StreamClient | RawStreamClient)[]) {}
  send(row: DatasetRow, maxTokens: number, signal?: AbortSignal): Promise<Awaited<ReturnType<RequestSender['send']>>> {
    return this.clients[this.i++ % this.clients.length].send(row, maxTokens, signal);
  }
  abortAll(): void {
    for (const c of this.clients) c.abortAll();
  }
  dispose(): void {
    for (const c of this.clients) c.dispose();
  }
}

const maxOf = (xs: ArrayLike<number>): number => {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) if (xs[i] > m) m = xs[i];
  return m;
};
const fmt = (x: number, d = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const promptText = (len: number): string => Array.from({ length: len - 1 }, () => 'the').join(' ');
const row = (len: number, outputLen: number): DatasetRow => ({ prompt: promptText(len), promptLen: len, outputLen });
const PATHS: Record<ApiKind, string> = { generate: '/generate', completions: '/v1/completions', chat: '/v1/chat/completions' };

function requestBodyOf(api: ApiKind, prompt: string, outputLen: number): string {
  return api === 'generate'
    ? JSON.stringify({ text: prompt, sampling_params: { max_new_tokens: outputLen, ignore_eos: true, temperature: 0 }, stream: true })
    : api === 'completions'
      ? JSON.stringify({ model: 'default', prompt, max_tokens: outputLen, ignore_eos: true, temperature: 0, stream: true, stream_options: { include_usage: true } })
      : JSON.stringify({ model: 'default', messages: [{ role: 'user', content: prompt }], max_completion_tokens: outputLen, ignore_eos: true, temperature: 0, stream: true, stream_options: { include_usage: true } });
}

// ---------------------------------------------------------------- throughput: one thread, client only
async function clientThroughput(sims: SimProc[], api: ApiKind, kind: 'node' | 'raw', concurrency: number, requests: number, outputLen: number): Promise<{ tokPerSec: number; cpuPct: number; failed: number }> {
  const make = (url: string): StreamClient | RawStreamClient => {
    const o = { baseUrl: url, api, payload: { temperature: 0, ignoreEos: true, model: 'default' } };
    return kind === 'raw' ? new RawStreamClient(o) : new StreamClient(o);
  };
  const rr = new RoundRobin(sims.map((s) => make(s.url)));
  let tokens = 0;
  let failed = 0;
  const run = new LoadRun({ rows: [row(16, outputLen)], client: rr, arrivals: arrivalOffsets({ kind: 'all-at-once' }, createRng(1)), maxConcurrency: concurrency, count: requests, warmupRequests: 0, retainRecords: false, onRecord: (r) => ((tokens += r.outputTokens ?? 0), (failed += r.ok ? 0 : 1)) });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run.run();
  const wallSec = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  rr.dispose();
  return { tokPerSec: tokens / wallSec, cpuPct: ((cpu.user + cpu.system) / 1e6 / wallSec) * 100, failed };
}

/**
 * The least a client can do: keep-alive sockets, a hand-written request, and per read only a byte
 * search for the token marker and the end of the chunked body. No HTTP parser, no SSE, no records.
 */
async function rawThroughput(sims: SimProc[], api: ApiKind, concurrency: number, requests: number, outputLen: number): Promise<{ tokPerSec: number; cpuPct: number }> {
  const body = requestBodyOf(api, promptText(16), outputLen);
  const marker = Buffer.from(api === 'generate' ? '"completion_tokens"' : api === 'completions' ? '"text":"' : '"content":"');
  const end = Buffer.from('\r\n0\r\n\r\n');
  let started = 0;
  let tokens = 0;
  let done = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, (_, i) => {
      const u = new URL(sims[i % sims.length].url);
      const request = Buffer.from(`POST ${PATHS[api]} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`);
      return new Promise<void>((resolve, reject) => {
        const sock = net.connect(Number(u.port), u.hostname);
        sock.setNoDelay(true);
        let tail: Buffer = Buffer.alloc(0);
        const next = (): void => {
          if (started >= requests) {
            sock.end();
            resolve();
            return;
          }
          started++;
          sock.write(request);
        };
        sock.on('connect', next);
        sock.on('error', reject);
        sock.on('data', (buf: Buffer) => {
          const scan = tail.length ? Buffer.concat([tail, buf]) : buf;
          let at = scan.indexOf(marker, tail.length > marker.length ? tail.length - marker.length + 1 : 0);
          while (at >= 0) {
            tokens++;
            at = scan.indexOf(marker, at + marker.length);
          }
          const finished = scan.indexOf(end, Math.max(0, tail.length - end.length)) >= 0;
          tail = scan.subarray(Math.max(0, scan.length - 32));
          if (finished) {
            done++;
            tail = Buffer.alloc(0);
            next();
          }
        });
      });
    }),
  );
  const wallSec = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const tokenCount = api === 'chat' ? tokens - done : tokens; // the role chunk's "content":""
  return { tokPerSec: tokenCount / wallSec, cpuPct: ((cpu.user + cpu.system) / 1e6 / wallSec) * 100 };
}

function benchConfig(url: string, over: Partial<BenchmarkConfig>): BenchmarkConfig {
  return {
    name: 'bench-loadgen',
    url,
    api: 'completions',
    model: 'default',
    dataset: { name: 'random', numPrompts: 1000, seed: 1, inputLen: 16, outputLen: 64, rangeRatio: 1 },
    cacheBust: false,
    requestRate: Infinity,
    burstiness: 1,
    warmupRequests: 1,
    definition: 'sglang',
    percentiles: [50, 99],
    payload: { temperature: 0, ignoreEos: true },
    ...over,
  };
}

// ---------------------------------------------------------------- Poisson fidelity (the whole engine)
async function poissonFidelity(url: string, ratePerSec: number, seconds: number, workers: number): Promise<void> {
  const out = await runBenchmark(benchConfig(url, { requestRate: ratePerSec, durationSec: seconds, workers, dataset: { name: 'random', numPrompts: 1000, seed: 7, inputLen: 16, outputLen: 8, rangeRatio: 1 } }), { toolVersion: 'bench' });
  const s = out.summary;
  const rate = out.validity.find((c) => c.id === 'rate');
  const sat = out.validity.find((c) => c.id === 'client-saturated');
  console.log(
    `  ${fmt(ratePerSec)} req/s x ${seconds} s, ${workers} thread(s): ${fmt(s.completed)} ok, ${fmt(s.failed)} failed (${fmt(s.clientErrors ?? 0)} by the client); ${rate?.text ?? '?'} (${rate?.detail ?? ''})\n` +
      `    dispatch lag ms: p50 ${(s.dispatchLagMs.median ?? 0).toFixed(3)}  p99 ${(s.dispatchLagMs.p['p99'] ?? 0).toFixed(3)}  max ${(s.dispatchLagMs.max ?? 0).toFixed(1)}; TTFT p99 ${(s.ttftMs.p['p99'] ?? 0).toFixed(2)} ms; ` +
      `client: ${sat?.level} "${sat?.text}" (${out.client.workers} thread(s), loop p99 ${out.client.eventLoopDelayP99Ms.toFixed(2)} ms, max ${out.client.eventLoopDelayMaxMs.toFixed(1)} ms, busiest ${fmt((out.client.loopUtilization ?? 0) * 100)}%)`,
  );
}

// ---------------------------------------------------------------- timing error against exact truth
const TRUTH = { ttftMs: 200, itlMs: 20, tokens: 64 };

async function engineAccuracy(url: string, streams: number, requests: number, workers: number, stallEveryMs = 0): Promise<void> {
  // a deliberate stall of the load thread (in-process only): 60 ms of busy work every stallEveryMs
  const stall = stallEveryMs
    ? setInterval(() => {
        const until = performance.now() + 60;
        while (performance.now() < until);
      }, stallEveryMs)
    : undefined;
  const out = await runBenchmark(benchConfig(url, { maxConcurrency: streams, workers, dataset: { name: 'random', numPrompts: requests, seed: 3, inputLen: 64, outputLen: TRUTH.tokens, rangeRatio: 1 } }), { toolVersion: 'bench' });
  if (stall) clearInterval(stall);
  const s = out.summary;
  const sat = out.validity.find((c) => c.id === 'client-saturated');
  const ttftErr = (k: string): number => (k === 'p50' ? (s.ttftMs.median ?? 0) : (s.ttftMs.p[k] ?? 0)) - TRUTH.ttftMs;
  console.log(
    `  ours, ${fmt(streams)} streams, ${fmt(s.completed)} requests, ${workers === 0 ? 'in-process' : `${out.client.workers} thread(s)`}${stallEveryMs ? `, loop stalled 60 ms every ${stallEveryMs} ms on purpose` : ''}: ` +
      `TTFT error p50 ${ttftErr('p50').toFixed(2)}  p99 ${ttftErr('p99').toFixed(2)}  max ${((s.ttftMs.max ?? 0) - TRUTH.ttftMs).toFixed(1)} ms; ` +
      `ITL p50 ${(s.itlMs.median ?? 0).toFixed(2)}  p99 ${(s.itlMs.p['p99'] ?? 0).toFixed(2)} ms (truth ${TRUTH.itlMs}); E2E p99 error ${((s.e2eMs.p['p99'] ?? 0) - TRUTH.ttftMs - (TRUTH.tokens - 1) * TRUTH.itlMs).toFixed(2)} ms\n` +
      `    flag: ${sat?.level} "${sat?.text}" — ${sat?.detail}`,
  );
}

/** the raw-socket reader on the same closed loop: TTFT = first token byte - request write */
async function rawAccuracy(url: string, streams: number, requests: number): Promise<void> {
  const body = requestBodyOf('completions', promptText(64), TRUTH.tokens);
  const u = new URL(url);
  const request = Buffer.from(`POST /v1/completions HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  const marker = Buffer.from('"text":"');
  const end = Buffer.from('\r\n0\r\n\r\n');
  const ttft: number[] = [];
  const itl: number[] = [];
  let started = 0;
  await Promise.all(
    Array.from({ length: streams }, () => new Promise<void>((resolve, reject) => {
      const sock = net.connect(Number(u.port), u.hostname);
      sock.setNoDelay(true);
      let sentAt = 0;
      let last = 0;
      let first = true;
      let tail: Buffer = Buffer.alloc(0);
      const next = (): void => {
        if (started >= requests) {
          sock.end();
          resolve();
          return;
        }
        started++;
        first = true;
        sentAt = performance.now();
        sock.write(request);
      };
      sock.on('connect', next);
      sock.on('error', reject);
      sock.on('data', (buf: Buffer) => {
        const at = performance.now();
        const scan = tail.length ? Buffer.concat([tail, buf]) : buf;
        let k = scan.indexOf(marker, tail.length > marker.length ? tail.length - marker.length + 1 : 0);
        while (k >= 0) {
          // the usage chunk has no text; the sim's first event carries the first token
          if (first) ttft.push(at - sentAt);
          else itl.push(at - last);
          first = false;
          last = at;
          k = scan.indexOf(marker, k + marker.length);
        }
        const finished = scan.indexOf(end, Math.max(0, tail.length - end.length)) >= 0;
        tail = scan.subarray(Math.max(0, scan.length - 32));
        if (finished) {
          tail = Buffer.alloc(0);
          next();
        }
      });
    })),
  );
  console.log(
    `  raw-socket reader, same load (${fmt(ttft.length)} requests): TTFT error p50 ${(percentile(ttft, 50) - TRUTH.ttftMs).toFixed(2)}  p99 ${(percentile(ttft, 99) - TRUTH.ttftMs).toFixed(2)}  max ${(maxOf(ttft) - TRUTH.ttftMs).toFixed(1)} ms; ` +
      `ITL p50 ${percentile(itl, 50).toFixed(2)}  p99 ${percentile(itl, 99).toFixed(2)} ms`,
  );
}

// ---------------------------------------------------------------- memory over a long run
async function memoryRun(url: string, requests: number, workers: number): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'moebench-bench-mem-'));
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
  const t0 = performance.now();
  const out = await runBenchmark(benchConfig(url, { maxConcurrency: 256, workers, requestCount: requests, dataset: { name: 'random', numPrompts: Math.min(requests, 10000), seed: 2, inputLen: 16, outputLen: 4, rangeRatio: 1 } }), { runStoreDir: dir, toolVersion: 'bench' });
  clearInterval(sample);
  peak = Math.max(peak, process.memoryUsage().rss);
  const wall = (performance.now() - t0) / 1000;
  console.log(`  ${fmt(out.summary.completed)} requests (${fmt(out.summary.completed / wall)} req/s, ${workers} thread(s)): peak RSS ${fmt(peak / 2 ** 20)} MiB; ${fmt(out.records.length)} whole records kept for plots`);
  await rm(dir, { recursive: true, force: true });
}

/** the engine's summary against computeMetrics over the stored records (the old in-memory path) */
async function equalityCheck(url: string, workers: number): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'moebench-bench-eq-'));
  const out = await runBenchmark(benchConfig(url, { maxConcurrency: 32, workers, dataset: { name: 'random', numPrompts: 2000, seed: 4, inputLen: 16, outputLen: 16, rangeRatio: 0.5 } }), { runStoreDir: dir, toolVersion: 'bench' });
  const stored = await readRequests(out.runDir ?? '');
  const again = computeMetrics(stored, { api: 'completions', definition: 'sglang', durationSec: out.summary.durationSec, percentiles: [50, 99] }).summary;
  const same = JSON.stringify({ ...again, clientErrors: again.clientErrors ?? 0 }) === JSON.stringify({ ...out.summary, clientErrors: out.summary.clientErrors ?? 0 });
  console.log(`  ${fmt(stored.length - 1)} requests on ${workers} thread(s): summary from columns ${same ? 'equals' : 'DIFFERS FROM'} computeMetrics over requests.jsonl`);
  await rm(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const quick = flag('quick');
  const only = new Set(opt('only', 'throughput,poisson,accuracy,memory').split(','));
  if (PIN) {
    // this process's threads (and the load threads it starts later, which inherit it) on core 0
    const r = spawnSync('taskset', ['-a', '-cp', '0', String(process.pid)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`--pin: taskset failed: ${r.stderr || r.error?.message}`);
  }
  const cpus = PIN ? 1 : (os.availableParallelism?.() ?? os.cpus().length);
  const nSims = Number(opt('sims', String(Math.max(1, Math.min(8, cpus - 2)))));
  const workerCounts = opt('workers', '1,2,4,8').split(',').map(Number);
  console.log(`bench-loadgen: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${nSims} emulator process(es)${PIN ? `, client pinned to core 0 and the emulators to cores 1-${Math.max(1, os.cpus().length - 1)}` : ''}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  if (only.has('throughput')) {
    const sims = await startSims(nSims, { zeroCost: true });
    try {
      const concurrency = Number(opt('concurrency', '256'));
      const long = Number(opt('output-len', quick ? '500' : '2000'));
      const reqs = quick ? 400 : Number(opt('requests', '2000'));
      console.log(`\nthroughput, one load thread (zero-cost emulator, closed loop, concurrency ${concurrency}):`);
      for (const api of ['completions', 'chat', 'generate'] as ApiKind[]) {
        // /generate resends the whole text in every event (O(n^2) bytes): shorter outputs
        const outLen = api === 'generate' ? Math.min(long, 256) : long;
        const n = api === 'generate' ? reqs * 2 : reqs;
        await clientThroughput(sims, api, 'raw', concurrency, Math.min(50, n), outLen); // warm the JIT
        await clientThroughput(sims, api, 'node', concurrency, Math.min(50, n), outLen);
        const raw = await rawThroughput(sims, api, concurrency, n, outLen);
        const ours = await clientThroughput(sims, api, 'raw', concurrency, n, outLen);
        const node = await clientThroughput(sims, api, 'node', concurrency, n, outLen);
        console.log(
          `  ${api.padEnd(11)} ${outLen} tok/request: raw HTTP client ${fmt(ours.tokPerSec)} tok/s (CPU ${fmt(ours.cpuPct)}%, ${ours.failed} failed) = ${((ours.tokPerSec / raw.tokPerSec) * 100).toFixed(0)}% of the ceiling | ` +
            `node:http client ${fmt(node.tokPerSec)} tok/s (CPU ${fmt(node.cpuPct)}%) = ${((node.tokPerSec / raw.tokPerSec) * 100).toFixed(0)}% | raw-socket reader ${fmt(raw.tokPerSec)} tok/s (CPU ${fmt(raw.cpuPct)}%)`,
        );
      }
      console.log(`\nthroughput, whole engine on N load threads (records, columns, /v1/completions, ${long} tok/request, concurrency ${concurrency}):`);
      for (const w of workerCounts) {
        const t0 = performance.now();
        const out = await runBenchmark(benchConfig(sims[0].url, { maxConcurrency: concurrency, workers: w, dataset: { name: 'random', numPrompts: reqs, seed: 1, inputLen: 16, outputLen: long, rangeRatio: 1 } }), { toolVersion: 'bench' });
        const wall = (performance.now() - t0) / 1000;
        console.log(`  ${w} thread(s): ${fmt(out.summary.totalOutputTokens / wall)} tok/s incl. start-up (${fmt(out.summary.outputThroughput)} over the benchmark duration), ${out.summary.failed} failed, busiest thread ${fmt((out.client.loopUtilization ?? 0) * 100)}%`);
      }
    } finally {
      await stopSims(sims);
    }
  }

  if (only.has('poisson')) {
    const sims = await startSims(1, { zeroCost: true });
    try {
      console.log('\nPoisson fidelity (zero-cost emulator, 8 output tokens per request):');
      for (const rate of quick ? [1000, 2500] : [1000, 2500, 5000]) for (const w of [1, Math.min(2, Math.max(1, cpus - 1))].filter((x, i, a) => a.indexOf(x) === i)) await poissonFidelity(sims[0].url, rate, quick ? 3 : 10, w);
    } finally {
      await stopSims(sims);
    }
  }

  if (only.has('accuracy')) {
    const sims = await startSims(1, { zeroCost: false, pace: { ttftMs: TRUTH.ttftMs, itlMs: TRUTH.itlMs } });
    try {
      console.log(`\ntiming error against the paced emulator (first token ${TRUTH.ttftMs} ms after arrival, then one per ${TRUTH.itlMs} ms, ${TRUTH.tokens} tokens; closed loop):`);
      for (const streams of (opt('streams', quick ? '256' : '256,1000')).split(',').map(Number)) {
        const requests = streams * (quick ? 3 : 4);
        await rawAccuracy(sims[0].url, streams, requests);
        for (const w of [1, Math.min(2, Math.max(1, cpus - 1))].filter((x, i, a) => a.indexOf(x) === i)) await engineAccuracy(sims[0].url, streams, requests, w);
      }
      await engineAccuracy(sims[0].url, 256, 768, 0, 500); // 0 = in this thread, where the stall is
    } finally {
      await stopSims(sims);
    }
  }

  if (only.has('memory')) {
    const sims = await startSims(1, { zeroCost: true });
    try {
      const n = Number(opt('memory-requests', quick ? '50000' : '200000'));
      console.log('\nmemory and exactness (zero-cost emulator, run store on, 4 output tokens per request):');
      await memoryRun(sims[0].url, n, Number(opt('memory-workers', '1')));
      for (const w of [1, 3]) await equalityCheck(sims[0].url, w);
    } finally {
      await stopSims(sims);
    }
  }
}
