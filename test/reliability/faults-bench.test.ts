/**
 * Faults during a benchmark against the emulator: the server killed mid-stream (a real process,
 * SIGKILL), a router whose streams hang, and a run store on a full disk. For each the run ends in a
 * clear state, every request record already written stays intact (counted and compared line by
 * line from requests.jsonl), and no process is left behind.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { runBenchmark, type BenchmarkConfig } from '../../src/core/bench/benchmark';
import { startSimRouter, startSimServer } from '../../src/core/sim';
import { figure } from './helpers';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'out', 'cli.js');
let lost = 0;
let orphans = 0;
const children: ChildProcess[] = [];

function config(url: string, over: Partial<BenchmarkConfig> = {}): BenchmarkConfig {
  return {
    name: 'faults',
    url,
    api: 'generate',
    dataset: { name: 'random', numPrompts: 200, seed: 1, inputLen: 16, outputLen: 64, rangeRatio: 0, rangeSemantics: 'sglang' },
    cacheBust: true,
    requestRate: 100,
    burstiness: 1,
    warmupRequests: 1,
    definition: 'sglang',
    percentiles: [99],
    payload: { temperature: 0, ignoreEos: true },
    ...over,
  };
}

/** `moebench sim serve` in its own process; resolves with its URL */
async function simProcess(extra: string[] = []): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [CLI, 'sim', 'serve', '--port', '0', '--seed', '3', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let text = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      text += d.toString('utf8');
      const m = /https?:\/\/127\.0\.0\.1:\d+/.exec(text);
      if (m) resolve(m[0]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`sim serve exited ${code}: ${text}`)));
  });
  return { url, child };
}

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
}

function onlyRun(store: string): string {
  const runs = readdirSync(store);
  assert.equal(runs.length, 1, `runs: ${runs.join(', ')}`);
  return path.join(store, runs[0]);
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** whether the child has exited, waiting for its exit event up to `ms` (no fixed sleep) */
function exitedWithin(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** live (non-zombie) processes whose command line mentions `text`: anything a run left behind, not only the one the test killed */
function processesMentioning(text: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes(text) && !l.split(/\s+/)[1]?.startsWith('Z') && !l.includes('ps -eo'));
}

describe('faults during a benchmark', () => {
  after(() => {
    for (const c of children) if (alive(c.pid)) c.kill('SIGKILL');
  });

  test('the server killed mid-stream: the run completes with the failures counted, nothing received before is lost', async () => {
    const sim = await simProcess();
    const store = mkdtempSync(path.join(os.tmpdir(), 'moebench-kill-'));
    let before: string[] = [];
    const watcher = setInterval(() => {
      if (!existsSync(store) || readdirSync(store).length === 0) return;
      const got = lines(path.join(onlyRun(store), 'requests.jsonl'));
      if (got.length >= 40 && before.length === 0) {
        before = got;
        sim.child.kill('SIGKILL');
      }
    }, 20);
    let outcome;
    try {
      outcome = await runBenchmark(config(sim.url), { runStoreDir: store, toolVersion: 'test' });
    } finally {
      clearInterval(watcher);
    }
    assert.ok(before.length >= 40, 'the server was killed during the run');
    const dir = onlyRun(store);
    const after = lines(path.join(dir, 'requests.jsonl'));
    const missing = before.filter((l) => !after.includes(l));
    lost += missing.length;
    assert.deepEqual(missing, [], 'every record written before the kill is still there, byte for byte');
    assert.equal(after.length, 201, 'every request (and the warmup) has a record');
    const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { status: string };
    assert.equal(meta.status, 'completed');
    assert.ok(existsSync(path.join(dir, 'summary.json')));
    assert.ok(outcome.summary.failed > 0 && outcome.summary.completed >= 39, `${outcome.summary.completed} completed, ${outcome.summary.failed} failed`);
    const errors = outcome.validity.find((c) => c.id === 'error-rate');
    assert.equal(errors?.level, 'error');
    // requests cut mid-stream keep what they received
    const partial = after.map((l) => JSON.parse(l) as { ok: boolean; chunkMs: number[]; error?: string }).filter((r) => !r.ok && r.chunkMs.length > 0);
    assert.ok(partial.length > 0, 'a stream cut mid-way is recorded with its chunks');
    const left = (await exitedWithin(sim.child, 5000)) ? 0 : 1;
    orphans += left;
    assert.equal(left, 0, 'the killed server is gone');
    figure({ 'kill-records-before': before.length, 'kill-records-after': after.length, 'kill-records-lost': missing.length, 'kill-partial-streams-kept': partial.length });
  });

  test('a router whose streams hang: each request fails as stalled after the idle timeout, the run ends', async () => {
    const server = await startSimServer({ zeroCost: true, seed: 5, faults: { stallAfterTokens: 2, stallMs: 3_600_000 } });
    const router = await startSimRouter({ prefill: [], decode: [], mode: 'round_robin', workers: [server.url] });
    const store = mkdtempSync(path.join(os.tmpdir(), 'moebench-stall-'));
    try {
      const t0 = Date.now();
      const outcome = await runBenchmark(config(router.url, { dataset: { ...config('').dataset, numPrompts: 10 }, requestRate: Infinity, warmupRequests: 0, idleTimeoutMs: 1500 }), { runStoreDir: store, toolVersion: 'test' });
      const endedSec = (Date.now() - t0) / 1000;
      assert.equal(outcome.summary.failed, 10);
      const dir = onlyRun(store);
      const recs = lines(path.join(dir, 'requests.jsonl')).map((l) => JSON.parse(l) as { ok: boolean; error?: string; chunkMs: number[] });
      assert.equal(recs.length, 10);
      for (const r of recs) {
        assert.match(r.error ?? '', /stalled: no data from the server for 2 s/);
        assert.ok(r.chunkMs.length >= 1, 'the tokens before the stall are kept');
      }
      assert.equal((JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { status: string }).status, 'completed');
      figure({ 'stall-requests': recs.length, 'stall-run-ended-sec': endedSec });
    } finally {
      await router.close();
      await server.close();
    }
  });

  test('a full disk under the run store: a clear error, the records already written intact, no process left', async () => {
    const sim = await simProcess(['--zero-cost']);
    const base = mkdtempSync(path.join(os.tmpdir(), 'moebench-diskfull-'));
    const mnt = path.join(base, 'mnt');
    mkdirSync(mnt);
    // a real full file system: a 512 KiB tmpfs (CI runs as root); without the right to mount, a
    // file-size limit (ulimit -f) in the CLI's shell gives EFBIG on the same writes
    const mounted = await new Promise<boolean>((resolve) => execFile('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mnt], (err) => resolve(!err)));
    const store = path.join(mnt, 'runs');
    const args = [CLI, 'bench', '--base-url', sim.url, '--num-prompts', '6000', '--random-input-len', '8', '--random-output-len', '4', '--request-rate', 'inf', '--max-concurrency', '32', '--run-store', store, '--format', 'json', '--quiet'];
    try {
      const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const command = mounted ? [process.execPath, ...args] : ['bash', '-c', 'trap "" XFSZ; ulimit -f 600; exec "$@"', 'bash', process.execPath, ...args];
        execFile(command[0], command.slice(1), { encoding: 'utf8', timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
      });
      assert.notEqual(r.code, 0, 'a run that could not be stored does not succeed');
      assert.match(r.stderr, /The run store is full \((ENOSPC|EFBIG)\): writing requests\.jsonl failed/, r.stderr);
      assert.match(r.stderr, /the request records already in requests\.jsonl are intact/);
      const dir = onlyRun(store);
      const written = readFileSync(path.join(dir, 'requests.jsonl'), 'utf8');
      const complete = written.endsWith('\n') ? written.split('\n').slice(0, -1) : written.split('\n').slice(0, -1);
      assert.ok(complete.length > 10, `${complete.length} records were written before the disk filled`);
      for (const l of complete) JSON.parse(l);
      const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { status: string };
      assert.ok(['running', 'failed'].includes(meta.status));
      figure({ 'diskfull-method': mounted ? 'tmpfs' : 'ulimit-f', 'diskfull-records-intact': complete.length, 'diskfull-exit': r.code ?? -1 });
      process.stdout.write(`disk full stderr: ${r.stderr.split('\n').slice(-4).join(' | ')}\n`);
    } finally {
      if (mounted) await new Promise<void>((resolve) => execFile('umount', [mnt], () => resolve()));
      sim.child.kill('SIGTERM');
      // the bench CLI named the store on its command line: nothing mentioning it may outlive the run
      const left = [...((await exitedWithin(sim.child, 5000)) ? [] : [`sim serve ${sim.child.pid}`]), ...processesMentioning(store)];
      orphans += left.length;
      assert.deepEqual(left, [], 'processes left behind');
    }
  });

  test('figures', () => {
    figure({ 'bench-fault-records-lost': lost, 'bench-fault-orphans': orphans });
    assert.equal(lost, 0);
    assert.equal(orphans, 0);
  });
});
