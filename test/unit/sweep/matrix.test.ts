import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { benchSpecSchema } from '../../../src/core/spec/bench-spec';
import { parseSpec } from '../../../src/core/spec/yaml-spec';
import { planDeployment, deploySpecSchema } from '../../../src/core/plan';
import { derivedName, expandMatrix } from '../../../src/core/sweep/matrix';
import { applyOverrides, SweepSpecError } from '../../../src/core/sweep/overrides';
import { loadSweepState, saveSweepState, sweepFingerprint } from '../../../src/core/sweep/state';

describe('sweep matrix', () => {
  test('every combination, the first key varying slowest, with readable labels', () => {
    const cells = expandMatrix({ 'moe.eplb': [false, true], 'moe.tbo': [false, true] });
    assert.deepEqual(cells.map((c) => c.label), ['moe.eplb=false, moe.tbo=false', 'moe.eplb=false, moe.tbo=true', 'moe.eplb=true, moe.tbo=false', 'moe.eplb=true, moe.tbo=true']);
    assert.equal(derivedName('pd-small', cells[3], '-'), 'pd-small-eplb-true_tbo-true');
    // names stay within 63 characters
    const long = expandMatrix({ 'decode.memory.cudaGraphBatchSizes': [[1, 2, 4, 8, 16, 32, 64, 128, 256, 512]] })[0];
    const n = derivedName('a-very-long-deployment-name-that-goes-on-and-on-and-on', long, '-');
    assert.ok(n.length <= 63 && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(n), n);
  });

  test('overrides set dotted paths; a boolean on an object section sets its enabled; the base is untouched', () => {
    const base = { name: 'd', cluster: 'c', moe: { a2a: 'deepep', eplb: { rebalanceIterations: 20 } } };
    const out = applyOverrides(base, [['moe.eplb', false], ['moe.tbo', true], ['decode.parallel.tp', 16]]);
    assert.deepEqual(out, { name: 'd', cluster: 'c', moe: { a2a: 'deepep', eplb: { rebalanceIterations: 20, enabled: false }, tbo: true }, decode: { parallel: { tp: 16 } } });
    assert.deepEqual(base.moe.eplb, { rebalanceIterations: 20 });
    assert.throws(() => applyOverrides(base, [['cluster', 'other']]), SweepSpecError);
  });

  test('a derived spec plans to different server flags', () => {
    const base = { name: 'm', cluster: 'c', model: '/m', modelHint: 'deepseek-v3', moe: { a2a: 'deepep', mode: 'normal', eplb: { rebalanceIterations: 20 } }, unified: { nodes: ['n1'], parallel: { tp: 8, dp: 8, dpAttention: true } } };
    const cluster = { name: 'c', kind: 'sim', nodes: [{ name: 'n1', address: '127.0.0.2', gpus: 8 }] };
    const argvOf = (eplb: boolean) => planDeployment(deploySpecSchema.parse(applyOverrides(base, [['moe.eplb', eplb]])), cluster).processes[0].argv;
    assert.ok(!argvOf(false).includes('--enable-eplb'));
    const on = argvOf(true);
    assert.deepEqual(on.slice(on.indexOf('--enable-eplb'), on.indexOf('--enable-eplb') + 3), ['--enable-eplb', '--eplb-rebalance-num-iterations', '20']);
  });

  test('the sweep field in a bench spec checks its paths', () => {
    const parse = (m: string) => parseSpec(benchSpecSchema, ['name: b', 'target: d', 'sweep:', '  deployment: dep', `  matrix: ${m}`, ''].join('\n'), { kind: 'moebench-bench' }).spec;
    assert.deepEqual(parse('{ moe.eplb: [false, true] }').sweep, { deployment: 'dep', matrix: { 'moe.eplb': [false, true] }, keepLast: false });
    assert.throws(() => parse('{ "moe..eplb": [1] }'), /dotted deploy-spec path/);
    assert.throws(() => parse('{ moe.eplb: [] }'));
  });

  test('progress round-trips through the state file; a broken file is ignored, not fatal', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'moebench-sweep-state-'));
    try {
      const file = path.join(dir, 'sweeps', 'b.json');
      const fp = sweepFingerprint({ name: 'b' }, 'name: d');
      assert.notEqual(fp, sweepFingerprint({ name: 'b' }, 'name: d\nmoe: {}'));
      await saveSweepState(file, { version: 1, bench: 'b', fingerprint: fp, deployment: 'd', updatedAt: '', cells: [{ key: '[]', label: 'x=1', overrides: [['x', 1]], deployment: 'd-x-1', status: 'done', runIds: ['r1'], balancedness: 0.9, finishedAt: 'now' }] });
      const back = await loadSweepState(file);
      assert.equal(back.state?.cells[0].runIds[0], 'r1');
      await writeFile(file, '{ not json');
      const broken = await loadSweepState(file);
      assert.equal(broken.state, undefined);
      assert.match(broken.problem ?? '', /not JSON/);
      assert.deepEqual(await loadSweepState(path.join(dir, 'none.json')), {});
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
