/**
 * Load-generator capacity and accuracy figures (issue 4, "Performance"). Prints figures; asserts
 * nothing. Run: node --import tsx scripts/bench-loadgen.ts [--quick] [--sims N] [--only a,b]
 *
 *   throughput  streamed tokens/s and requests/s one client process sustains against the
 *               emulator's zero-cost mode, and the same workload read by a minimal raw-socket
 *               reader (the ceiling: no HTTP parser, no SSE parsing, no records)
 *   poisson     Poisson rate fidelity at 1,000 and 5,000 req/s: achieved rate, dispatch lag
 *   accuracy    client TTFT/ITL against the emulator's emission timestamps at 1,000 streams
 *
 * The emulators run in child processes, so this process's CPU is the client's alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { StreamClient } from '../src/core/load/http-client';
import { arrivalOffsets } from '../src/core/load/arrivals';
import { createRng } from '../src/core/load/rng';
import { LoadRun, type RequestSender } from '../src/core/load/runner';
import type { ApiKind, DatasetRow } from '../src/core/load/types';
import { percentile } from '../src/core/metrics/stats';

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(`--${name}`);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};

// ---------------------------------------------------------------- child: one emulator process
if (args[0] === '--child-sim') {
  const options = JSON.parse(args[1]) as { zeroCost: boolean; seed: number };
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

async function startSims(n: number, zeroCost: boolean): Promise<SimProc[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      new Promise<SimProc>((resolve, reject) => {
        const child = spawn(process.execPath, [...process.execArgv, process.argv[1], '--child-sim', JSON.stringify({ zeroCost, seed: i + 1 })], { stdio: ['ignore', 'pipe', 'inherit'] });
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
  await Promise.all(sims.map((s) => new Promise<void>((resolve) => {
    s.child.removeAllListeners('exit');
    s.child.once('exit', () => resolve());
    s.child.kill('SIGTERM');
  })));
}

/** spreads requests over several emulator processes, as a router would over servers */
class RoundRobin implements RequestSender {
  private i = 0;
  constructor(readonly clients: StreamClient[]) {}
  send(row: DatasetRow, maxTokens: number, signal?: AbortSignal): ReturnType<StreamClient['send']> {
    const c = this.clients[this.i++ % this.clients.length];
    return c.send(row, maxTokens, signal);
  }
  dispose(): void {
    for (const c of this.clients) c.dispose();
  }
}

/** Math.max(...xs) overflows the stack on large arrays */
const maxOf = (xs: readonly number[]): number => xs.reduce((a, b) => (b > a ? b : a), -Infinity);
const minOf = (xs: readonly number[]): number => xs.reduce((a, b) => (b < a ? b : a), Infinity);
const fmt = (x: number, d = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const prompt = (len: number): DatasetRow => ({ prompt: Array.from({ length: len - 1 }, () => 'the').join(' '), promptLen: len, outputLen: 0 });

// ---------------------------------------------------------------- throughput: our client
async function clientThroughput(sims: SimProc[], api: ApiKind, concurrency: number, requests: number, outputLen: number): Promise<{ tokPerSec: number; reqPerSec: number; cpuPct: number; failed: number }> {
  const rr = new RoundRobin(sims.map((s) => new StreamClient({ baseUrl: s.url, api, maxSockets: Math.ceil(concurrency / sims.length) + 1, payload: { temperature: 0, ignoreEos: true, model: 'default' } })));
  const row = { ...prompt(16), outputLen };
  const run = new LoadRun({ rows: [row], client: rr, arrivals: arrivalOffsets({ kind: 'all-at-once' }, createRng(1)), maxConcurrency: concurrency, count: requests, warmupRequests: 0 });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const res = await run.run();
  const wallSec = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  rr.dispose();
  const tokens = res.records.reduce((a, r) => a + (r.outputTokens ?? 0), 0);
  return { tokPerSec: tokens / wallSec, reqPerSec: res.records.length / wallSec, cpuPct: ((cpu.user + cpu.system) / 1e6 / wallSec) * 100, failed: res.records.filter((r) => !r.ok).length };
}

// ---------------------------------------------------------------- throughput: raw-socket ceiling
/**
 * The least a client can do: keep-alive sockets, a hand-written request, and per read only a byte
 * search for the token marker and the end of the chunked body. No HTTP parser, no SSE, no records.
 */
async function rawThroughput(sims: SimProc[], api: ApiKind, concurrency: number, requests: number, outputLen: number): Promise<{ tokPerSec: number; reqPerSec: number; cpuPct: number }> {
  const path = api === 'generate' ? '/generate' : api === 'completions' ? '/v1/completions' : '/v1/chat/completions';
  const body =
    api === 'generate'
      ? JSON.stringify({ text: prompt(16).prompt, sampling_params: { max_new_tokens: outputLen, ignore_eos: true, temperature: 0 }, stream: true })
      : api === 'completions'
        ? JSON.stringify({ model: 'default', prompt: prompt(16).prompt, max_tokens: outputLen, ignore_eos: true, temperature: 0, stream: true, stream_options: { include_usage: true } })
        : JSON.stringify({ model: 'default', messages: [{ role: 'user', content: prompt(16).prompt }], max_completion_tokens: outputLen, ignore_eos: true, temperature: 0, stream: true, stream_options: { include_usage: true } });
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
      const request = Buffer.from(`POST ${path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`);
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
          // count markers, carrying a few bytes across reads so none is split and missed
          const scan = tail.length ? Buffer.concat([tail, buf]) : buf;
          let at = scan.indexOf(marker, tail.length > marker.length ? tail.length - marker.length + 1 : 0);
          while (at >= 0) {
            tokens++;
            at = scan.indexOf(marker, at + marker.length);
          }
          const finished = scan.indexOf(end, Math.max(0, tail.length - end.length)) >= 0;
          tail = scan.subarray(Math.max(0, scan.length - 16));
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
  // chat counts the role chunk's "content":"" too: one extra per request
  const tokenCount = api === 'chat' ? tokens - done : tokens;
  return { tokPerSec: tokenCount / wallSec, reqPerSec: done / wallSec, cpuPct: ((cpu.user + cpu.system) / 1e6 / wallSec) * 100 };
}

// ---------------------------------------------------------------- Poisson fidelity
async function poissonFidelity(sims: SimProc[], ratePerSec: number, seconds: number): Promise<void> {
  const rr = new RoundRobin(sims.map((s) => new StreamClient({ baseUrl: s.url, api: 'completions', payload: { temperature: 0, ignoreEos: true, model: 'default' } })));
  const count = Math.round(ratePerSec * seconds);
  const run = new LoadRun({ rows: [{ ...prompt(16), outputLen: 4 }], client: rr, arrivals: arrivalOffsets({ kind: 'poisson', ratePerSec }, createRng(7)), count, warmupRequests: 0 });
  const res = await run.run();
  rr.dispose();
  const recs = res.records;
  const lags = recs.map((r) => r.dispatchedMs - r.scheduledMs);
  const first = recs[0];
  const last = recs[recs.length - 1];
  const achieved = (recs.length - 1) / ((last.dispatchedMs - first.dispatchedMs) / 1000);
  const planned = (recs.length - 1) / ((last.scheduledMs - first.scheduledMs) / 1000);
  const starts = recs.map((r) => r.startMs);
  const sent = (recs.length - 1) / ((maxOf(starts) - minOf(starts)) / 1000);
  console.log(
    `  ${fmt(ratePerSec)} req/s x ${seconds} s (${fmt(count)} requests, ${recs.filter((r) => !r.ok).length} failed): ` +
      `dispatched ${fmt(achieved, 1)} req/s = ${fmt((achieved / ratePerSec) * 100, 2)}% of target ` +
      `(${fmt((achieved / planned) * 100, 3)}% of the sampled schedule, which itself averaged ${fmt(planned, 1)}); requests written at ${fmt(sent, 1)} req/s\n` +
      `    dispatch lag ms: p50 ${percentile(lags, 50).toFixed(3)}  p99 ${percentile(lags, 99).toFixed(3)}  p99.9 ${percentile(lags, 99.9).toFixed(3)}  max ${maxOf(lags).toFixed(3)}; ` +
      `event-loop delay p99 ${res.client.eventLoopDelayP99Ms.toFixed(2)} ms; client CPU ${fmt(res.client.cpuPct)}%`,
  );
}

// ---------------------------------------------------------------- timestamp accuracy
/** per chunk: client arrival (epoch ms) minus the emulator's emission stamp of that event */
async function timestampAccuracy(sims: SimProc[], streams: number, outputLen: number): Promise<void> {
  const perRequest: { sim: number; seen: { atEpoch: number; emit: number }[] }[] = [];
  const origin = performance.timeOrigin;
  const clients = sims.map(
    (s, simIndex) =>
      new StreamClient({
        baseUrl: s.url,
        api: 'completions',
        payload: { temperature: 0, ignoreEos: true, model: 'default' },
        observeLines: () => {
          const seen: { atEpoch: number; emit: number }[] = [];
          perRequest.push({ sim: simIndex, seen });
          return (line, atMs) => {
            if (line.indexOf('"text":"') < 0) return;
            const k = line.indexOf('"moebench_emit_ms":');
            if (k >= 0) seen.push({ atEpoch: origin + atMs, emit: parseFloat(line.slice(k + 19)) });
          };
        },
      }),
  );
  const rr = new RoundRobin(clients);
  const run = new LoadRun({ rows: [{ ...prompt(64), outputLen }], client: rr, arrivals: arrivalOffsets({ kind: 'all-at-once' }, createRng(1)), maxConcurrency: streams, count: streams, warmupRequests: 0 });
  const res = await run.run();
  rr.dispose();
  // Each process maps its monotonic clock to epoch time once, at start (performance.timeOrigin),
  // so two processes' stamps differ by a constant. Estimate it per emulator process as the
  // smallest arrival-minus-emission delay seen from it, and remove it.
  const offset = sims.map(() => Infinity);
  for (const { sim, seen } of perRequest) for (const e of seen) offset[sim] = Math.min(offset[sim], e.atEpoch - e.emit);
  const firstDelay: number[] = [];
  const itlError: number[] = [];
  for (const { sim, seen } of perRequest) {
    if (seen.length === 0) continue;
    firstDelay.push(seen[0].atEpoch - seen[0].emit - offset[sim]);
    for (let k = 1; k < seen.length; k++) {
      // client gap minus server gap (the offset cancels); events written together share a read
      itlError.push(seen[k].atEpoch - seen[k - 1].atEpoch - (seen[k].emit - seen[k - 1].emit));
    }
  }
  const abs = itlError.map(Math.abs);
  const gaps = res.records.flatMap((r) => r.chunkMs.slice(1).map((t, i) => t - r.chunkMs[i]));
  const spread = maxOf(offset) - minOf(offset);
  console.log(
    `  ${fmt(streams)} concurrent streams x ${outputLen} tokens (${res.records.filter((r) => r.ok).length} ok), server ITL median ${percentile(gaps, 50).toFixed(2)} ms; clock offsets across emulator processes spread ${spread.toFixed(3)} ms (removed):\n` +
      `    TTFT error (first chunk arrival - emission, offset removed) ms: p50 ${percentile(firstDelay, 50).toFixed(3)}  p99 ${percentile(firstDelay, 99).toFixed(3)}  max ${maxOf(firstDelay).toFixed(3)}\n` +
      `    ITL error |client gap - emitted gap| ms over ${fmt(abs.length)} gaps: p50 ${percentile(abs, 50).toFixed(3)}  p99 ${percentile(abs, 99).toFixed(3)}  max ${maxOf(abs).toFixed(3)}\n` +
      `    client event-loop delay p99 ${res.client.eventLoopDelayP99Ms.toFixed(2)} ms, client CPU ${fmt(res.client.cpuPct)}%`,
  );
}

/**
 * The same measurement with the minimal raw-socket reader: what arrival-minus-emission looks like
 * when the client does almost nothing. The emulator stamps an event when it formats it, but Node
 * corks the socket and sends at the end of the tick, so part of the "error" is the emulator's; the
 * raw reader shows that part, and the client's own share is the difference.
 */
async function rawAccuracy(sims: SimProc[], streams: number, outputLen: number): Promise<void> {
  const body = JSON.stringify({ model: 'default', prompt: prompt(64).prompt, max_tokens: outputLen, ignore_eos: true, temperature: 0, stream: true, stream_options: { include_usage: true } });
  const marker = '"moebench_emit_ms":';
  const perRequest: { sim: number; seen: { atEpoch: number; emit: number }[] }[] = [];
  const origin = performance.timeOrigin;
  await Promise.all(
    Array.from({ length: streams }, (_, i) => {
      const simIndex = i % sims.length;
      const u = new URL(sims[simIndex].url);
      const seen: { atEpoch: number; emit: number }[] = [];
      perRequest.push({ sim: simIndex, seen });
      return new Promise<void>((resolve, reject) => {
        const sock = net.connect(Number(u.port), u.hostname, () => sock.write(`POST /v1/completions HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`));
        sock.setNoDelay(true);
        let pending = '';
        sock.on('data', (buf: Buffer) => {
          const atEpoch = origin + performance.now();
          const text = pending + buf.toString('latin1');
          let from = 0;
          for (;;) {
            const t = text.indexOf('"text":"', from);
            if (t < 0) break;
            const k = text.indexOf(marker, t);
            const close = k >= 0 ? text.indexOf('}', k) : -1;
            if (close < 0) break;
            seen.push({ atEpoch, emit: parseFloat(text.slice(k + marker.length, close)) });
            from = close;
          }
          pending = text.slice(from);
        });
        sock.on('end', () => resolve());
        sock.on('error', reject);
      });
    }),
  );
  const offset = sims.map(() => Infinity);
  for (const { sim, seen } of perRequest) for (const e of seen) offset[sim] = Math.min(offset[sim], e.atEpoch - e.emit);
  const firstDelay: number[] = [];
  const itlError: number[] = [];
  for (const { sim, seen } of perRequest) {
    if (seen.length === 0) continue;
    firstDelay.push(seen[0].atEpoch - seen[0].emit - offset[sim]);
    for (let k = 1; k < seen.length; k++) itlError.push(Math.abs(seen[k].atEpoch - seen[k - 1].atEpoch - (seen[k].emit - seen[k - 1].emit)));
  }
  console.log(
    `    raw-socket reader, same load: TTFT delay p50 ${percentile(firstDelay, 50).toFixed(3)}  p99 ${percentile(firstDelay, 99).toFixed(3)} ms; ` +
      `ITL error p50 ${percentile(itlError, 50).toFixed(3)}  p99 ${percentile(itlError, 99).toFixed(3)} ms`,
  );
}

async function main(): Promise<void> {
  const quick = flag('quick');
  const only = new Set(opt('only', 'throughput,poisson,accuracy').split(','));
  const cpus = os.cpus().length;
  const nSims = Number(opt('sims', String(Math.max(1, Math.min(8, cpus - 2)))));
  console.log(`bench-loadgen: node ${process.version}, ${cpus} CPUs (${os.cpus()[0]?.model ?? '?'}), ${nSims} emulator process(es), load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  if (only.has('throughput')) {
    const sims = await startSims(nSims, true);
    try {
      const concurrency = Number(opt('concurrency', '256'));
      const long = Number(opt('output-len', quick ? '500' : '2000'));
      const reqs = quick ? 400 : Number(opt('requests', '2000'));
      console.log(`\nthroughput (zero-cost emulator, closed loop, concurrency ${concurrency}):`);
      for (const api of ['completions', 'chat', 'generate'] as ApiKind[]) {
        // /generate resends the whole text in every event (O(n^2) bytes): shorter outputs
        const outLen = api === 'generate' ? Math.min(long, 256) : long;
        const n = api === 'generate' ? reqs * 2 : reqs;
        await clientThroughput(sims, api, concurrency, Math.min(50, n), outLen); // warm the JIT
        const ours = await clientThroughput(sims, api, concurrency, n, outLen);
        const raw = await rawThroughput(sims, api, concurrency, n, outLen);
        console.log(
          `  ${api.padEnd(11)} ${outLen} tok/request: client ${fmt(ours.tokPerSec)} tok/s, ${fmt(ours.reqPerSec)} req/s (CPU ${fmt(ours.cpuPct)}%, ${ours.failed} failed) | ` +
            `raw socket ${fmt(raw.tokPerSec)} tok/s (CPU ${fmt(raw.cpuPct)}%) | ratio ${(ours.tokPerSec / raw.tokPerSec).toFixed(2)}`,
        );
      }
      const small = await clientThroughput(sims, 'completions', concurrency, quick ? 2000 : 10000, 4);
      const smallRaw = await rawThroughput(sims, 'completions', concurrency, quick ? 2000 : 10000, 4);
      console.log(`  completions 4 tok/request (request rate): client ${fmt(small.reqPerSec)} req/s (CPU ${fmt(small.cpuPct)}%) | raw socket ${fmt(smallRaw.reqPerSec)} req/s | ratio ${(small.reqPerSec / smallRaw.reqPerSec).toFixed(2)}`);
    } finally {
      await stopSims(sims);
    }
  }

  if (only.has('poisson')) {
    const sims = await startSims(nSims, true);
    try {
      console.log('\nPoisson fidelity (zero-cost emulator, 4 output tokens per request):');
      for (const rate of [1000, 5000]) await poissonFidelity(sims, rate, quick ? 2 : 10);
    } finally {
      await stopSims(sims);
    }
  }

  if (only.has('accuracy')) {
    // the performance-model emulator paces tokens like a decode server
    const sims = await startSims(nSims, false);
    try {
      console.log('\ntimestamp accuracy against the emulator\'s emission stamps (performance-model emulator):');
      const streams = Number(opt('streams', '1000'));
      await timestampAccuracy(sims, streams, quick ? 32 : 128);
      await rawAccuracy(sims, streams, quick ? 32 : 128);
    } finally {
      await stopSims(sims);
    }
  }
}
