import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { ExecOptions } from '../../../src/core/launch/types';
import type { TelemetrySink } from '../../../src/core/telemetry/recorder';
import type { PhaseMarker, TelemetryRecord } from '../../../src/core/telemetry/schema';
import { startRunTelemetry } from '../../../src/core/telemetry/run-telemetry';
import { fakeCluster, untilAborted } from '../telemetry/helpers';

const NODES = [
  { name: 'gpu-001', address: '10.0.0.1', gpus: 8 },
  { name: 'gpu-002', address: '10.0.0.2', gpus: 8 },
];

/** A cluster whose nvidia-smi streams the test feeds tick by tick, on a clock the test sets. */
function scriptedCluster() {
  const streams = new Map<string, ExecOptions>();
  const cluster = fakeCluster(NODES, async (node, argv, options) => {
    if (argv.includes('-lms')) {
      streams.set(node, options);
      return untilAborted(options.signal);
    }
    return { exitCode: 127, signal: null, stdout: '', stderr: 'not scripted' };
  });
  // DEFAULT_STREAM_FIELDS order: index, util, mem util, mem used, mem total, power, power limit,
  // temp, mem temp, sm clock, mem clock, pstate, throttle mask, ecc
  const tick = (node: string, utilPct: number, powerW: number) => {
    const lines = Array.from({ length: 8 }, (_, i) => `${i}, ${utilPct}, 20, 120000, 143771, ${powerW.toFixed(2)}, 700.00, 50, 60, 1980, 3201, P0, 0x0000000000000000, 0\n`);
    streams.get(node)?.onStdout?.(lines.join(''));
  };
  return { cluster, streams, tick };
}

function memorySink(): TelemetrySink & { records: TelemetryRecord[] } {
  const records: TelemetryRecord[] = [];
  return { records, append: async (r) => void records.push(...r) };
}

test('phases split the run: per-step energy per output token and cost come from the power integrated inside each step', async () => {
  let clock = 1_000_000;
  const { cluster, streams, tick } = scriptedCluster();
  const sink = memorySink();
  const tel = await startRunTelemetry({ cluster, sink, collect: ['gpus'], intervalMs: 1000, now: () => clock });
  assert.equal(streams.size, 2, 'one nvidia-smi stream per node');
  assert.equal(cluster.calls.filter((c) => c.argv.includes('-lms')).length, 2);
  for (let t = 0; t <= 30; t++) {
    clock = 1_000_000 + t * 1000;
    if (t === 5) tel.phase('warmup');
    if (t === 10) tel.phase('step', { step: 0, label: 'concurrency=8' });
    if (t === 20) tel.phase('step', { step: 1, label: 'concurrency=64' });
    for (const n of NODES) tick(n.name, t >= 10 ? 95 : 0, t >= 10 ? 600 : 100);
  }
  clock = 1_030_000;
  tel.endPhase();
  assert.equal(tel.latest().gpus.length, 2, 'newest tick of each node');
  const result = await tel.stop({ outputTokens: 5000, stepOutputTokens: [1000, 4000], usdPerGpuHour: 2 });

  assert.equal(result.gpuCount, 16);
  // 16 GPUs × 600 W × 10 s in each step
  assert.equal(result.steps.length, 2);
  assert.equal(Math.round(result.steps[0].efficiency.joules), 96_000);
  assert.equal(Math.round(result.steps[1].efficiency.joules), 96_000);
  assert.equal(result.steps[0].efficiency.joulesPerOutputToken, 96);
  assert.equal(result.steps[1].efficiency.joulesPerOutputToken, 24);
  assert.equal(result.steps[1].label, 'concurrency=64');
  // whole run: 10 s at 100 W (ramping to 600 W over the 10th second) + 20 s at 600 W
  assert.equal(Math.round(result.energy.joules), 16 * (9 * 100 + 350 + 20 * 600));
  // $2/GPU-h × 16 GPUs × 30 s ÷ 5000 tokens × 1e6
  assert.ok(Math.abs((result.energy.usdPer1MOutputTokens ?? 0) - (2 * 16 * (30 / 3600) / 5000) * 1e6) < 1e-9);

  const phases = sink.records.filter((r): r is PhaseMarker => r.kind === 'phase').map((p) => `${p.phase}${p.step ?? ''}:${p.edge}`);
  assert.deepEqual(phases, ['run:start', 'warmup:start', 'warmup:end', 'step0:start', 'step0:end', 'step1:start', 'step1:end', 'run:end']);
  assert.equal(sink.records.filter((r) => r.kind === 'gpu').length, 62, '31 ticks × 2 nodes, all written');
  assert.ok(result.charts.length > 0 && result.charts.every((c) => c.id.startsWith('telemetry-')));
  assert.ok([...streams.values()].every((o) => o.signal?.aborted), 'stop() ends every nvidia-smi stream');
  assert.strictEqual(await tel.stop(), result, 'stop is idempotent');
});

test('aborting the signal ends the streams at once; stop() still returns what was received', async () => {
  let clock = 5_000;
  const { cluster, streams, tick } = scriptedCluster();
  const ac = new AbortController();
  const tel = await startRunTelemetry({ cluster, nodes: ['gpu-002'], collect: ['gpus'], signal: ac.signal, now: () => clock });
  assert.deepEqual([...streams.keys()], ['gpu-002'], 'only the nodes asked for');
  for (let t = 0; t < 4; t++) {
    clock += 1000;
    tick('gpu-002', 50, 300);
  }
  ac.abort();
  assert.ok(streams.get('gpu-002')?.signal?.aborted);
  tick('gpu-002', 50, 300);
  const result = await tel.stop();
  assert.equal(result.gpuSamples, 4, 'what arrived before the abort is kept; nothing after');
  assert.equal(result.gpuCount, 8);
});

test('missing pieces become notices, not failures: no cluster for GPUs, no server for metrics', async () => {
  const tel = await startRunTelemetry({ collect: ['gpus', 'serverMetrics'] });
  const result = await tel.stop();
  assert.equal(result.notices.length, 2);
  assert.match(result.notices[0].message, /cluster/);
  assert.match(result.notices[1].message, /server URL or a deployment/);
  assert.equal(result.charts.length, 0);
});

test('a telemetry file that cannot be written is reported as an error notice, and collection goes on', async () => {
  let clock = 0;
  const { cluster, tick } = scriptedCluster();
  const tel = await startRunTelemetry({ cluster, nodes: ['gpu-001'], collect: ['gpus'], runDir: '/nonexistent/moebench-run', now: () => clock });
  for (let t = 0; t < 3; t++) {
    clock += 1000;
    tick('gpu-001', 10, 100);
  }
  const result = await tel.stop();
  assert.equal(result.gpuSamples, 3, 'samples are still collected');
  assert.ok(result.notices.some((n) => n.level === 'error' && /telemetry\.jsonl/.test(n.message)));
});
