import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BenchCellExecutor } from '../../../src/core/cells/bench';
import { DeployCellExecutor, stopDeployment } from '../../../src/core/cells/deploy';
import { Session } from '../../../src/core/exec/session';
import type { FaultOutcome } from '../../../src/core/faults/analyze';
import { createSimCluster } from '../../../src/core/sim/cluster';
import { emulatorBin, type EmulatorBin } from '../deploy/emulator';
import { cellContext, Events } from '../deploy/helpers';

// Faults during a builtin run against a sim deployment: the run records time to detect, the
// error burst and time to recover, in summary.json and in the cell output.

const DEPLOY = readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'runners', 'deploy-unified-sim.yaml'), 'utf8');
let emu: EmulatorBin;
let root: string;

before(async () => {
  emu = await emulatorBin();
  root = await mkdtemp(path.join(os.tmpdir(), 'moebench-faults-'));
});
after(async () => {
  await emu.dispose();
  await rm(root, { recursive: true, force: true });
});

let caseNo = 0;
async function withDeployment(fn: (session: Session) => Promise<void>, model: { timeScale: number } | undefined = undefined): Promise<void> {
  // zero-cost servers unless the test needs the performance model (/slow_down acts on its forward passes)
  const cluster = await createSimCluster({ name: 'test', nodes: ['node1', 'node2'], gpusPerNode: 8, cliPath: emu.cliPath, zeroCost: model === undefined, timeScale: model?.timeScale });
  const session = new Session({ notebookPath: path.join(root, `case${++caseNo}`, 'exp.moebench'), toolVersion: 'test' });
  session.clusters.set('test', cluster, 'cluster');
  session.store.add(cluster);
  try {
    await new DeployCellExecutor({ graceMs: 2000 }).execute(DEPLOY, cellContext(session, new Events()));
    await fn(session);
  } finally {
    await stopDeployment(session, 'solo').catch(() => undefined);
    await session.dispose();
  }
}

async function bench(session: Session, name: string, lines: string[]): Promise<Events> {
  const events = new Events();
  await new BenchCellExecutor().execute([`name: ${name}`, 'target: solo', ...lines, ''].join('\n'), { ...cellContext(session, events, undefined, name), cell: { index: 2, name, language: 'moebench-bench' } });
  return events;
}

async function summaryFaults(session: Session, name: string): Promise<{ outcomes: FaultOutcome[]; injected: { label: string; atMs: number; endedAtMs: number | null }[] }> {
  const id = session.runs.get(name).runIds[0];
  const summary = JSON.parse(await readFile(path.join(session.runStoreDir, id, 'summary.json'), 'utf8')) as { faults: { outcomes: FaultOutcome[]; injected: { label: string; atMs: number; endedAtMs: number | null }[] } };
  return summary.faults;
}

const LOAD = ['workload: { dataset: random, numPrompts: 160, inputLen: 32, outputLen: 8, rangeRatio: 1 }', 'load: { requestRate: 40, arrival: constant }'];

describe('fault injection on a sim deployment', () => {
  test('killing the server rank shows an error burst, and a recovery once it is restarted', async (t) => {
    await withDeployment(async (session) => {
      // 8 s of arrivals: the restarted server (1 s after the kill, plus its start on a loaded machine) answers inside the run
      const events = await bench(session, 'kill-restart', ['workload: { dataset: random, numPrompts: 320, inputLen: 32, outputLen: 8, rangeRatio: 1 }', LOAD[1], 'faults:', '  - at: 1s', '    kill: { role: unified, rank: 0, restartAfterSec: 1 }']);
      const f = await summaryFaults(session, 'kill-restart');
      assert.equal(f.injected.length, 1);
      assert.match(f.injected[0].label, /^kill unified-0\/rank-0 \(SIGKILL\)/);
      assert.ok(f.injected[0].endedAtMs !== null && f.injected[0].endedAtMs > f.injected[0].atMs, 'the restart is recorded');
      const o = f.outcomes[0];
      t.diagnostic(o.text);
      assert.ok(o.detectMs !== null && o.detectMs >= 0 && o.detectMs < 1000, `detected after ${o.detectMs} ms`);
      assert.ok(o.burst && o.burst.failed > 5, `burst: ${JSON.stringify(o.burst)}`);
      assert.equal(o.recovered, true);
      assert.ok(o.recoverMs !== null && o.recoverMs > 1000, `recovers only after the restart (${o.recoverMs} ms)`);
      // the cell shows it: a badge, the fault table and the timeline
      const doc = events.doc('kill-restart-faults');
      assert.ok(doc);
      const badges = doc.blocks.find((b) => b.type === 'badges');
      assert.ok(badges && badges.type === 'badges' && /failed, recovered in/.test(badges.items[0].text), JSON.stringify(badges));
      assert.ok(doc.blocks.some((b) => b.type === 'plot' && b.id === 'fault-timeline'));
      assert.match(events.logText(), /fault: restarted unified-0\/rank-0/);
    });
  });

  test('a killed rank that is not restarted: the burst lasts to the end, "no recovery"', async (t) => {
    await withDeployment(async (session) => {
      const events = await bench(session, 'kill-dead', [...LOAD, 'faults:', '  - { at: 1.5s, kill: { role: unified } }']);
      const o = (await summaryFaults(session, 'kill-dead')).outcomes[0];
      t.diagnostic(o.text);
      assert.ok(o.burst && o.burst.failed > 40, JSON.stringify(o.burst));
      assert.equal(o.recovered, false);
      assert.equal(o.recoverMs, null);
      const doc = events.doc('kill-dead-faults');
      const badges = doc?.blocks.find((b) => b.type === 'badges');
      assert.ok(badges && badges.type === 'badges' && badges.items[0].level === 'error' && /no recovery/.test(badges.items[0].text));
    });
  });

  test('cutting the node stalls every stream in flight until it is resumed', async (t) => {
    await withDeployment(async (session) => {
      // 5 s of arrivals: the resume at cut + 1.5 s falls inside the run even when a loaded machine starts the cut late
      await bench(session, 'cut', ['workload: { dataset: random, numPrompts: 100, inputLen: 32, outputLen: 8, rangeRatio: 1 }', 'load: { requestRate: 20, arrival: constant }', 'faults:', '  - { at: 1s, cutNode: { node: node1, forSec: 1.5 } }']);
      const f = await summaryFaults(session, 'cut');
      assert.match(f.injected[0].label, /^cut node1/);
      const o = f.outcomes[0];
      t.diagnostic(o.text);
      assert.ok(o.burst && o.burst.stalled > 0, JSON.stringify(o));
      assert.equal(o.burst.failed, 0, 'paused, not refused: nothing fails');
      assert.equal(o.recovered, true);
    });
  });

  test('/slow_down stalls the server for a while: stalled requests, no failures, a recovery after the reset', async (t) => {
    await withDeployment(
      async (session) => {
        await bench(session, 'slow', ['workload: { dataset: random, numPrompts: 60, inputLen: 32, outputLen: 16, rangeRatio: 1 }', 'load: { requestRate: 20, arrival: constant }', 'faults:', '  - { at: 1s, slowDown: { role: unified, forSec: 1.5, sleepSec: 8 } }']);
        const f = await summaryFaults(session, 'slow');
        assert.match(f.injected[0].label, /^slow down unified-0/);
        assert.ok(f.injected[0].endedAtMs !== null, 'the slow-down was reset');
        const o = f.outcomes[0];
        t.diagnostic(o.text);
        assert.ok(o.burst && o.burst.stalled > 0 && o.burst.failed === 0, JSON.stringify(o));
        assert.equal(o.recovered, true);
      },
      // 8 s per forward pass at a 0.1 time scale: 800 ms gaps, over the 500 ms stall threshold
      { timeScale: 0.1 },
    );
  });
});
