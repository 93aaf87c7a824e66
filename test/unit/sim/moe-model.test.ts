import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { MoeRouting } from '../../../src/core/sim/engine/moe';
import { BLOG_DECODE, BLOG_PREFILL, evaluatePoint } from '../../../src/core/sim/engine/calibration';

const config = { layers: 58, experts: 256, topK: 8, epSize: 72, tpSize: 72, redundantExperts: 32, seed: 5, zipfExponent: 0.5 };

test('the same seed routes the same expert counts, pass after pass; another seed does not', () => {
  const a = new MoeRouting(config);
  const b = new MoeRouting(config);
  const c = new MoeRouting({ ...config, seed: 6 });
  for (let i = 0; i < 3; i++) {
    const pa = a.pass(4096);
    assert.deepEqual(pa.logicalCounts, b.pass(4096).logicalCounts);
    assert.notDeepEqual(pa.logicalCounts, c.pass(4096).logicalCounts);
  }
});

test('every token is routed to top-k experts: per-layer counts sum to about tokens x 8', () => {
  const r = new MoeRouting(config).pass(10_000);
  for (let l = 0; l < 58; l++) {
    let s = 0;
    for (let e = 0; e < 256; e++) s += r.logicalCounts[l * 256 + e];
    assert.ok(Math.abs(s - 80_000) < 80_000 * 0.02, `layer ${l}: ${s}`);
  }
});

test('EPLB on the recorded load raises balancedness and lowers the busiest GPU load', () => {
  const moe = new MoeRouting(config);
  const before = moe.pass(18_432);
  const load = new Float64Array(58 * 256);
  for (let i = 0; i < 10; i++) moe.pass(18_432).logicalCounts.forEach((v, k) => (load[k] += v));
  moe.rebalance(load);
  const after = moe.pass(18_432);
  assert.ok(before.balancedness < 0.5, `skewed routing starts unbalanced (${before.balancedness})`);
  assert.ok(after.balancedness > 0.85, `EPLB balances (${after.balancedness})`);
  assert.ok(Math.max(...after.maxGpuPairs) < Math.max(...before.maxGpuPairs));
  // every logical expert keeps at least one physical slot
  for (const row of moe.placementRows()) assert.equal(new Set(row).size, 256);
});

test('calibration: the blog decode point lands near 22.3k output tok/s per node', () => {
  const r = evaluatePoint(BLOG_DECODE);
  assert.ok(r.tokensPerSecPerNode > 22_282 * 0.93 && r.tokensPerSecPerNode < 22_282 * 1.07, String(r.tokensPerSecPerNode));
});

test('calibration: the blog prefill point lands near 52-54k input tok/s per node', () => {
  const r = evaluatePoint(BLOG_PREFILL);
  assert.ok(r.tokensPerSecPerNode > 50_000 && r.tokensPerSecPerNode < 57_000, String(r.tokensPerSecPerNode));
});

test('TBO helps big decode batches and hurts small ones; EPLB raises throughput', () => {
  const tput = (p: typeof BLOG_DECODE) => evaluatePoint(p).tokensPerSecPerNode;
  assert.ok(tput(BLOG_DECODE) > tput({ ...BLOG_DECODE, tbo: false }) * 1.15);
  assert.ok(tput({ ...BLOG_DECODE, seqsPerRank: 32 }) < tput({ ...BLOG_DECODE, seqsPerRank: 32, tbo: false }));
  assert.ok(tput(BLOG_DECODE) > tput({ ...BLOG_DECODE, eplb: false }) * 1.4);
  assert.ok(evaluatePoint(BLOG_PREFILL).tokensPerSecPerNode > evaluatePoint({ ...BLOG_PREFILL, eplb: false }).tokensPerSecPerNode * 1.3);
});
