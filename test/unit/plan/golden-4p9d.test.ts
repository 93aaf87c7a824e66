import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalFlag } from '../../../src/core/engines/catalog';
import { planDeployCell } from '../../../src/core/plan/planner';
import { fixture, flagMap, sshCluster } from './helpers';

// The published 4-prefill + 9-decode reproduction (sgl-project/sglang#6017, §1.4.2 of the launch
// notes), compared flag for flag with what the planner writes for the same topology.
interface ReferenceSide {
  env: Record<string, string>;
  argv: string[];
  tail?: string[];
  guideAlso?: string[];
  familyEnv?: Record<string, string>;
}
const reference = JSON.parse(fixture('reference-4p9d.json')) as { prefill: ReferenceSide; decode: ReferenceSide; router: { argv: string[] } };
const cluster = sshCluster('h100-13', 13);
const { plan, warnings } = planDeployCell(fixture('deploy-4p9d.yaml'), cluster, 'ds-4p9d');
const canonical = (f: string) => canonicalFlag('sglang', f) ?? f;

function fill(value: string, subst: Record<string, string>): string {
  return value.replace(/<[^>]+>/g, (m) => subst[m] ?? m);
}

function compare(side: ReferenceSide, role: 'prefill' | 'decode', subst: (rank: number) => Record<string, string>, expectedExtra: string[]) {
  const ranks = plan.processes.filter((p) => p.role === role);
  for (const p of ranks) {
    const ours = flagMap(p.argv, canonical);
    const theirs = flagMap(side.argv.map((a) => fill(a, subst(p.nodeRank))), canonical);
    for (const [flag, value] of theirs) {
      assert.equal(ours.get(flag), value, `${p.id}: ${flag} should be ${JSON.stringify(value)} as in the published command`);
    }
    const extra = [...ours.keys()].filter((f) => !theirs.has(f)).sort();
    assert.deepEqual(extra, [...expectedExtra].sort(), `${p.id}: flags beyond the published line`);
    assert.deepEqual(p.argv.slice(0, 3), ['python3', '-m', 'sglang.launch_server']);
  }
  return ranks;
}

test('the 4P9D plan has 4 prefill ranks and 9 decode ranks, 104 GPUs, and a router', () => {
  assert.equal(plan.processes.filter((p) => p.role === 'prefill').length, 4);
  assert.equal(plan.processes.filter((p) => p.role === 'decode').length, 9);
  assert.equal(plan.processes.reduce((n, p) => n + p.gpuIds.length, 0), 104);
  assert.equal(plan.instances.length, 2);
  assert.deepEqual(warnings, []);
  assert.equal(plan.endpoint.url, 'http://10.0.0.1:8000');
});

test('prefill ranks match the published prefill command flag for flag (plus the guide tail it cuts off)', () => {
  const ranks = compare(
    reference.prefill,
    'prefill',
    (rank) => ({ '<DeepSeek-V3/R1>': '/models/DeepSeek-V3', '<P0>': '10.0.0.1', '<0..3>': String(rank) }),
    // the copy stops after --max-total-tokens; the guide's tail has these (reference §1.4.2)
    ['--context-length', '--init-expert-location', '--ep-num-redundant-experts'],
  );
  const tail = flagMap(reference.prefill.tail ?? [], canonical);
  for (const p of ranks) {
    const ours = flagMap(p.argv, canonical);
    assert.equal(ours.get('--context-length'), tail.get('--context-length'));
    assert.equal(ours.get('--ep-num-redundant-experts'), tail.get('--ep-num-redundant-experts'));
    assert.deepEqual(p.env, reference.prefill.env);
  }
  assert.deepEqual(ranks.map((p) => p.node), ['gpu-01', 'gpu-02', 'gpu-03', 'gpu-04']);
  assert.deepEqual(ranks.map((p) => flagMap(p.argv, canonical).get('--node-rank')), ['0', '1', '2', '3']);
});

test('decode ranks match the published decode command flag for flag, with the guide\'s DeepEP flags', () => {
  const ranks = compare(
    reference.decode,
    'decode',
    (rank) => ({ '<model>': '/models/DeepSeek-V3', '<D0>': '10.0.0.5', '<0..8>': String(rank) }),
    ['--moe-a2a-backend', '--deepep-mode', '--init-expert-location'],
  );
  const also = flagMap(reference.decode.guideAlso ?? [], canonical);
  for (const p of ranks) {
    const ours = flagMap(p.argv, canonical);
    assert.equal(ours.get('--moe-a2a-backend'), also.get('--moe-a2a-backend'));
    assert.equal(ours.get('--deepep-mode'), also.get('--deepep-mode'));
    // v0.5.1 reads SGL_ENABLE_JIT_DEEPGEMM; the dispatch buffer covers CUDA-graph bs 256 as in #7998
    assert.deepEqual(p.env, { ...reference.decode.env, ...reference.decode.familyEnv });
  }
  assert.equal(ranks[0].node, 'gpu-05');
  assert.equal(ranks[8].node, 'gpu-13');
});

test('the router gets each prefill URL with its bootstrap port and each decode URL, as in §4.2', () => {
  const router = plan.processes.find((p) => p.role === 'router');
  assert.ok(router);
  assert.deepEqual(router.argv, [
    'python3', '-m', 'sglang_router.launch_router', '--pd-disaggregation',
    '--prefill', 'http://10.0.0.1:30000', '8998',
    '--decode', 'http://10.0.0.5:30000',
    '--host', '0.0.0.0', '--port', '8000',
  ]);
  // same shape as the published router line: --prefill URL PORT repeated, --decode URL
  const published = reference.router.argv;
  assert.equal(published[published.indexOf('--prefill') + 2], '8998');
});

test('actions start every rank, wait for both instances, then start the router and check a generate', () => {
  const kinds = plan.actions.map((a) => (a.kind === 'start' ? `start ${a.processId}` : a.kind));
  assert.equal(kinds.filter((k) => k.startsWith('start ') && !k.includes('router')).length, 13);
  const routerStart = kinds.indexOf('start router');
  const waitIdx = kinds.flatMap((k, i) => (k === 'wait-healthy' ? [i] : []));
  assert.equal(waitIdx.length, 3);
  assert.ok(waitIdx[0] > 12 && waitIdx[1] < routerStart && routerStart < waitIdx[2], 'servers start, both instances are waited for, then the router starts and is waited for');
  assert.deepEqual(kinds.slice(-2), ['check-generate', 'ready']);
  const waits = plan.actions.filter((a) => a.kind === 'wait-healthy').map((a) => (a.kind === 'wait-healthy' ? a.url : ''));
  assert.deepEqual(waits, ['http://10.0.0.1:30000/health', 'http://10.0.0.5:30000/health', 'http://10.0.0.1:8000/health']);
  assert.equal(plan.paths.serverInfo, '/get_server_info');
});
