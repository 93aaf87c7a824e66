/**
 * The CI-sized soak: scripts/reliability-soak.ts for 3 minutes (the 30-minute figure comes from
 * running the script directly: `node --import tsx scripts/reliability-soak.ts --minutes 30`).
 * A notebook run by the CLI process deploys one emulated server and benchmarks it at 1,000 req/s
 * with telemetry on; the CLI's open file descriptors and resident memory are sampled every 5 s.
 *
 * Asserted: the run succeeds, no file descriptor is leaked after warm-up, and resident memory
 * grows by at most 2 KiB per request. That bound is a regression guard, not the target of
 * "< 10% after warm-up": the load generator keeps every request's record in memory for its exact
 * (SGLang bench_serving) percentiles, about 0.8 KiB per short request; see the report.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { SoakResult } from '../../scripts/reliability-soak';
import { figure } from './helpers';

const ROOT = path.join(__dirname, '..', '..');

test('soak: 3 minutes at 1,000 req/s through the CLI with telemetry on — no fd leak, bounded memory per request', async () => {
  const json = path.join(mkdtempSync(path.join(os.tmpdir(), 'moebench-soak-test-')), 'soak.json');
  const minutes = process.env.MOEBENCH_SOAK_MINUTES ?? '3';
  await new Promise<void>((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'reliability-soak.ts'), '--minutes', minutes, '--json', json], { cwd: ROOT, timeout: (Number(minutes) * 60 + 240) * 1000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      process.stdout.write(stdout.split('\n').filter((l) => l.startsWith('FIGURE')).join('\n') + '\n');
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve();
    }),
  );
  const r = JSON.parse(readFileSync(json, 'utf8')) as SoakResult;
  const perRequestKiB = ((r.rssEndMiB - r.rssAfterWarmupMiB) * 1024) / Math.max(1, r.samples[r.samples.length - 1].requests - (r.samples.find((s) => s.atSec >= r.warmupSec)?.requests ?? 0));
  figure({ 'soak-minutes': r.minutes, 'soak-requests': r.requests, 'soak-achieved-rate': Math.round(r.achievedRate), 'soak-memory-growth-pct': r.rssGrowthPct, 'soak-growth-KiB-per-request': perRequestKiB, 'soak-fd-growth': r.fdGrowth, 'soak-telemetry-lines': r.telemetryLines });
  assert.equal(r.exitCode, 0, 'the notebook ran through');
  assert.ok(r.telemetryLines > 0, 'telemetry was on');
  // pooled keep-alive sockets come and go with the load (34 to ~340 seen in a 30-minute run, bounded
  // by the pool), so single samples differ by the pool's churn; a per-request leak would reach
  // thousands of FDs within a minute at 1,000 req/s
  const steady = r.samples.filter((s) => s.atSec >= r.warmupSec);
  const maxFds = Math.max(...steady.map((s) => s.fds));
  figure({ 'soak-fd-max': maxFds });
  assert.ok(steady.length > 0, 'enough samples');
  assert.ok(maxFds < 1024, `file descriptors reached ${maxFds} (a per-request leak; the pool alone stays in the hundreds)`);
  assert.ok(perRequestKiB < 2, `resident memory grew ${perRequestKiB.toFixed(2)} KiB per request after warm-up`);
});
