/**
 * Soak: a notebook run through the CLI process (`node out/cli.js run`) that deploys one emulated
 * SGLang server on a sim cluster and benchmarks it at a constant 1,000 req/s for N minutes with
 * GPU and server-metrics telemetry on. Every 5 s it samples the CLI process's resident memory
 * (/proc/<pid>/status VmRSS) and open file descriptors (/proc/<pid>/fd). Prints figures; asserts
 * nothing (test/reliability/soak.test.ts checks them).
 *
 *   node --import tsx scripts/reliability-soak.ts [--minutes 3] [--rate 1000] [--warmup-sec 30] [--json FILE]
 *
 * The emulator runs in zero-cost mode (tokens as fast as the socket takes them) in its own
 * processes, so the CLI's figures are the client's: load generator, run store, telemetry.
 * Memory growth is measured from the end of the warm-up (first --warmup-sec of the benchmark:
 * JIT, pools and buffers reach their working size) to the end of the run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const minutes = Number(opt('minutes', '3'));
const rate = Number(opt('rate', '1000'));
const warmupSec = Number(opt('warmup-sec', String(Math.min(60, Math.max(20, minutes * 10)))));
const sampleSec = Number(opt('sample-sec', '5'));
const jsonOut = opt('json', '');
const root = path.join(__dirname, '..');
const cli = path.join(root, 'out', 'cli.js');

export interface SoakSample {
  atSec: number;
  rssMiB: number;
  fds: number;
  requests: number;
}

export interface SoakResult {
  minutes: number;
  targetRate: number;
  achievedRate: number;
  requests: number;
  warmupSec: number;
  rssAfterWarmupMiB: number;
  rssEndMiB: number;
  rssMaxMiB: number;
  rssGrowthPct: number;
  fdsAfterWarmup: number;
  fdsEnd: number;
  fdGrowth: number;
  exitCode: number | null;
  telemetryLines: number;
  samples: SoakSample[];
}

function notebook(durationSec: number): string {
  const cell = (language: string, source: string): unknown => ({ kind: 'code', language, source: source.split('\n') });
  return JSON.stringify({
    format: 'moebench-notebook',
    version: 1,
    metadata: {},
    cells: [
      cell('moebench-cluster', 'name: sim\nkind: sim\nnodes: 1\ngpusPerNode: 8\nseed: 1'),
      cell('moebench-deploy', ['name: soak', 'cluster: sim', 'engine: { kind: sglang, version: "0.5.15" }', 'model: /models/DeepSeek-V3', 'modelHint: deepseek-v3', 'server: { enableMetrics: true }', 'unified:', '  nodes: [node1]', '  parallel: { tp: 8 }'].join('\n')),
      cell(
        'moebench-bench',
        [
          'name: soak',
          'target: soak',
          'workload: { dataset: random, numPrompts: 1000, inputLen: 32, outputLen: 8 }',
          `load: { requestRate: ${rate}, arrival: constant, durationSec: ${durationSec} }`,
          'warmup: 1',
          'collect: [gpus, serverMetrics]',
        ].join('\n'),
      ),
    ],
  });
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** lines of every requests.jsonl under the run store (the newest run is the bench's) */
function requestLines(store: string): { requests: number; telemetry: number } {
  let requests = 0;
  let telemetry = 0;
  if (!existsSync(store)) return { requests, telemetry };
  for (const id of readdirSync(store)) {
    const count = (f: string): number => {
      const file = path.join(store, id, f);
      if (!existsSync(file)) return 0;
      // size-based estimate would drift; the files are small enough to count exactly every 5 s
      const buf = readFileSync(file);
      let n = 0;
      for (let i = 0; i < buf.length; i++) if (buf[i] === 10) n++;
      return n;
    };
    requests += count('requests.jsonl');
    telemetry += count('telemetry.jsonl');
  }
  return { requests, telemetry };
}

export async function soak(): Promise<SoakResult> {
  if (!existsSync(cli)) throw new Error('out/cli.js is missing: npm run build');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'moebench-soak-'));
  const nb = path.join(dir, 'soak.moebench');
  writeFileSync(nb, notebook(minutes * 60));
  const store = path.join(dir, '.moebench', 'runs');
  const child = spawn(process.execPath, [cli, 'run', nb, '-o', path.join(dir, 'soak.out.moebench')], {
    env: { ...process.env, MOEBENCH_SIM_ZERO_COST: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the CLI');
  let peakAfterLoadMiB = 0;
  const samples: SoakSample[] = [];
  let benchStart: number | undefined;
  let done = false;
  void exited.then(() => (done = true));
  const t0 = Date.now();
  while (!done) {
    await new Promise((r) => setTimeout(r, sampleSec * 1000));
    if (done) break;
    let rss: number;
    let fds: number;
    try {
      rss = rssMiB(pid);
      fds = openFds(pid);
    } catch {
      break;
    }
    const { requests } = requestLines(store);
    if (benchStart === undefined && requests > 0) benchStart = Date.now();
    // samples only while load flows (not while the deployment starts, nor after the last request,
    // when the run's metrics are computed from requests.jsonl: that peak is reported separately)
    const summaryWritten = existsSync(store) && readdirSync(store).some((id) => existsSync(path.join(store, id, 'summary.json')));
    const prev = samples[samples.length - 1];
    const loadFlowing = prev === undefined || requests > prev.requests;
    if (benchStart !== undefined && !summaryWritten && loadFlowing) samples.push({ atSec: (Date.now() - benchStart) / 1000, rssMiB: rss, fds, requests });
    else if (benchStart !== undefined) peakAfterLoadMiB = Math.max(peakAfterLoadMiB, rss);
    if (process.env.MOEBENCH_SOAK_VERBOSE) process.stderr.write(`t=${((Date.now() - t0) / 1000).toFixed(0)}s rss=${rss.toFixed(1)}MiB fds=${fds} requests=${requests}\n`);
  }
  const exitCode = await exited;
  if (peakAfterLoadMiB > 0) console.log(`FIGURE soak-rss-peak-after-load-MiB=${peakAfterLoadMiB.toFixed(1)} (metrics computed from requests.jsonl)`);
  const { requests, telemetry } = requestLines(store);
  const after = samples.filter((s) => s.atSec >= warmupSec);
  if (after.length < 2) throw new Error(`too few samples after the warm-up (${after.length}); exit ${exitCode}\n${stderr}`);
  const first = after[0];
  const last = after[after.length - 1];
  const benchSec = last.atSec - samples[0].atSec;
  const result: SoakResult = {
    minutes,
    targetRate: rate,
    achievedRate: (last.requests - samples[0].requests) / Math.max(1, benchSec),
    requests,
    warmupSec,
    rssAfterWarmupMiB: first.rssMiB,
    rssEndMiB: last.rssMiB,
    rssMaxMiB: Math.max(...after.map((s) => s.rssMiB)),
    rssGrowthPct: ((last.rssMiB - first.rssMiB) / first.rssMiB) * 100,
    fdsAfterWarmup: first.fds,
    fdsEnd: last.fds,
    fdGrowth: last.fds - first.fds,
    exitCode,
    telemetryLines: telemetry,
    samples,
  };
  if (exitCode !== 0) process.stderr.write(stderr);
  return result;
}

if (require.main === module) {
  soak().then(
    (r) => {
      const { samples, ...figures } = r;
      if (jsonOut) writeFileSync(jsonOut, JSON.stringify(r, null, 1));
      for (const s of samples) console.log(`sample t=${s.atSec.toFixed(0)}s rss=${s.rssMiB.toFixed(1)}MiB fds=${s.fds} requests=${s.requests}`);
      console.log(
        `FIGURE soak-minutes=${figures.minutes} target-rate=${figures.targetRate} achieved-rate=${figures.achievedRate.toFixed(0)} requests=${figures.requests} telemetry-lines=${figures.telemetryLines} rss-after-warmup-MiB=${figures.rssAfterWarmupMiB.toFixed(1)} rss-end-MiB=${figures.rssEndMiB.toFixed(1)} rss-max-MiB=${figures.rssMaxMiB.toFixed(1)} memory-growth-pct=${figures.rssGrowthPct.toFixed(1)} fd-growth=${figures.fdGrowth} exit=${figures.exitCode}`,
      );
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
