import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { BenchCellExecutor } from '../../../src/core/cells/bench';
import { DeployCellExecutor, stopDeployment } from '../../../src/core/cells/deploy';
import { headlessHost } from '../../../src/core/host';
import { Session } from '../../../src/core/exec/session';
import type { TableBlock } from '../../../src/core/output/doc';
import { loadStoredRun } from '../../../src/core/report/load-runs';
import { createSimCluster } from '../../../src/core/sim/cluster';
import { parseTelemetryJsonl } from '../../../src/core/telemetry/recorder';
import { emulatorBin, type EmulatorBin } from '../deploy/emulator';
import { cellContext, Events, fixture } from '../deploy/helpers';

// Issue 22: the bench cell's telemetry table said 61.0 J per output token for a step and the
// report said 56.0 J for the same step. The cell integrated power over the whole step phase
// (warm-up and the pause while results were written included), the report over every sample in
// the step's telemetry.jsonl (for the first step the idle seconds before it, for the last the
// seconds after it). Both now call windowEfficiency over the step's measured window.

let emu: EmulatorBin;
let root: string;
before(async () => {
  emu = await emulatorBin();
  root = mkdtempSync(path.join(os.tmpdir(), 'moebench-energy-'));
});
after(async () => {
  await emu.dispose();
  rmSync(root, { recursive: true, force: true });
});

test('energy per output token: the bench cell and the report show the same number for every step, over the measured window', async () => {
  const cluster = await createSimCluster({ name: 'test', nodes: ['node1', 'node2', 'node3', 'node4'], gpusPerNode: 8, cliPath: emu.cliPath, });
  const session = new Session({ notebookPath: path.join(root, 'exp.moebench'), toolVersion: 'test' });
  session.clusters.set('test', cluster, 'cluster');
  session.store.add(cluster);
  try {
    await new DeployCellExecutor({ remoteDir: path.join(root, 'nodes'), graceMs: 3000 }).execute(fixture('deploy-2p2d-sim.yaml'), cellContext(session, new Events()));
    const events = new Events();
    const cell = ['name: energy', 'target: pd-small', 'workload: { dataset: random, numPrompts: 48, inputLen: 256, outputLen: 64, seed: 1 }', 'load: { maxConcurrency: [4, 16] }', 'collect: [gpus]', ''].join('\n');
    const ctx = { ...cellContext(session, events, undefined, 'energy'), cell: { index: 2, name: 'energy', language: 'moebench-bench' }, host: headlessHost({ settings: { 'telemetry.intervalMs': 250 } }) };
    await new BenchCellExecutor().execute(cell, ctx);

    const doc = events.doc('energy-result');
    const table = doc?.blocks.find((b): b is TableBlock => b.type === 'table' && (b.title ?? '').startsWith('Telemetry:'));
    assert.ok(table, 'the bench result has a telemetry table');
    const col = table.columns.indexOf('energy / output token');
    const runIds = session.runs.get('energy').runIds;
    assert.equal(runIds.length, 2);
    for (const [i, runId] of runIds.entries()) {
      const runDir = path.join(session.runStoreDir, runId);
      const loaded = await loadStoredRun(runDir);
      assert.ok('run' in loaded, `run ${runId} loads for the report`);
      const report = loaded.run.energy?.joulesPerOutputToken;
      assert.ok(report !== undefined && report > 0, `the report has energy per token for step ${i}`);
      const cellValue: number = Number(table.rows[i][col]);
      assert.ok(cellValue > 0, `the bench table has energy per token for step ${i}`);
      // the table shows 3 decimals: the same number, not just a close one
      assert.equal(cellValue, Number(report.toFixed(3)), `step ${i}: bench table ${cellValue} J vs report ${report} J`);
      // the window is stated in the run's own telemetry.jsonl, and matches the summary's duration
      const { records } = parseTelemetryJsonl(readFileSync(path.join(runDir, 'telemetry.jsonl'), 'utf8'));
      const marks = records.filter((r) => r.kind === 'phase' && r.phase === 'measured');
      assert.equal(marks.length, 2, `step ${i} has one measured window`);
      const summary = JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as { summary: { durationSec: number } };
      // a /generate target still names its model (it showed "Model: null"): from /server_info or /get_model_info
      const meta = JSON.parse(readFileSync(path.join(runDir, 'meta.json'), 'utf8')) as { target: { api: string; model?: string | null } };
      assert.equal(meta.target.api, 'generate');
      assert.ok(typeof meta.target.model === 'string' && meta.target.model.length > 0, `the run names its model (${String(meta.target.model)})`);
      assert.ok(Math.abs((marks[1].tsMs - marks[0].tsMs) / 1000 - summary.summary.durationSec) < 0.01, 'the measured window lasts the run\'s duration');
    }
    // each measured window lies inside its step (on the samples' clock): the load engine's t0 is
    // on the monotonic clock, and a window mixed across clocks ran past its step's end
    const phases = runIds.flatMap((id) => parseTelemetryJsonl(readFileSync(path.join(session.runStoreDir, id, 'telemetry.jsonl'), 'utf8')).records).filter((r) => r.kind === 'phase');
    for (let i = 0; i < runIds.length; i++) {
      const at = (phase: string, edge: string): number => {
        const m = phases.find((r) => r.kind === 'phase' && r.phase === phase && r.edge === edge && r.step === i);
        assert.ok(m, `${phase} ${edge} of step ${i}`);
        return m.tsMs;
      };
      assert.ok(at('step', 'start') <= at('measured', 'start'), `step ${i}: the window starts inside the step`);
      assert.ok(at('measured', 'end') <= at('step', 'end'), `step ${i}: the window ends inside the step (${at('measured', 'end')} vs ${at('step', 'end')})`);
    }
    assert.match(JSON.stringify(doc), /measured window/, 'the cell says which window the energy is over');
  } finally {
    await stopDeployment(session, 'pd-small').catch(() => undefined);
    await session.dispose();
  }
});
