import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { BenchCellExecutor } from '../../../src/core/cells/bench';
import { DeployCellExecutor, stopDeployment } from '../../../src/core/cells/deploy';
import { Session } from '../../../src/core/exec/session';
import type { TableBlock, TextBlock } from '../../../src/core/output/doc';
import { createSimCluster } from '../../../src/core/sim/cluster';
import { emulatorBin, type EmulatorBin } from '../deploy/emulator';
import { cellContext, Events } from '../deploy/helpers';

// A bench step asks for a profile: /start_profile and /stop_profile around it, the emulated
// torch traces (one per TP rank) fetched from the node into the store, a kernel split table.

let emu: EmulatorBin;
let root: string;
before(async () => {
  emu = await emulatorBin();
  root = mkdtempSync(path.join(os.tmpdir(), 'moebench-profile-'));
});
after(async () => {
  await emu.dispose();
  rmSync(root, { recursive: true, force: true });
});

test('profile: around a bench step gives per-rank traces in the store and the GEMM / attention / all-to-all split', async () => {
  const cluster = await createSimCluster({ name: 'sim', nodes: ['node1'], gpusPerNode: 8, cliPath: emu.cliPath, timeScale: 0.05 });
  const session = new Session({ notebookPath: path.join(root, 'nb.moebench'), toolVersion: 'test' });
  session.clusters.set('sim', cluster, 'cluster');
  session.store.add(cluster);
  try {
    const deploy = ['name: solo', 'cluster: sim', 'engine: { kind: sglang, version: "0.5.15" }', 'model: /models/DeepSeek-V3', 'modelHint: deepseek-v3', 'unified:', '  nodes: [node1]', '  parallel: { tp: 8 }', ''].join('\n');
    await new DeployCellExecutor({ remoteDir: path.join(root, 'nodes') }).execute(deploy, cellContext(session, new Events()));
    const events = new Events();
    const bench = ['name: prof', 'target: solo', 'workload: { dataset: random, inputLen: 256, outputLen: 16, numPrompts: 32, seed: 1 }', 'load: { maxConcurrency: 8 }', 'profile: {}', ''].join('\n');
    await new BenchCellExecutor().execute(bench, { ...cellContext(session, events, undefined, 'prof'), cell: { index: 2, name: 'prof', language: 'moebench-bench' } });
    const doc = events.doc('prof-profile-0');
    assert.ok(doc, `no profile doc; log:\n${events.logText()}`);
    const tables = doc.blocks.filter((b): b is TableBlock => b.type === 'table');
    assert.ok(tables.length >= 2, JSON.stringify(doc).slice(0, 500));
    const text = JSON.stringify(tables);
    for (const cat of ['gemm', 'attention', 'all', 'other']) assert.match(text.toLowerCase(), new RegExp(cat), `split has ${cat}`);
    assert.match(text, /deep_gemm|flash_fwd|deep_ep/, 'top kernels are named');
    const paths = (doc.blocks.find((b): b is TextBlock => b.type === 'text')?.text ?? '').split('\n').filter((l) => l.endsWith('.trace.json.gz'));
    assert.equal(paths.length, 8, 'one trace per TP rank');
    for (const p of paths) assert.ok(existsSync(p), `${p} was copied into the store`);
    assert.ok(paths.every((p) => p.includes(path.join(root, '.moebench', 'profiles'))));
  } finally {
    await stopDeployment(session, 'solo').catch(() => undefined);
    await session.dispose();
  }
});
