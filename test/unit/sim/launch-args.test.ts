import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ArgparseError, parseArgs } from '../../../src/core/sim/launch/argparse';
import { SERVER_ARG_SPECS } from '../../../src/core/sim/launch/server-args';
import { LaunchAssertionError, shapeFromArgs } from '../../../src/core/sim/launch/shape-from-args';
import { launchServerCommand, routerCommand } from '../../../src/core/sim/launch/commands';
import { ROUTER_ARG_SPECS } from '../../../src/core/sim/launch/router-args';

const parse = (argv: string[]) => parseArgs('sglang serve', SERVER_ARG_SPECS, argv).values;

function capture(): { io: { stdout: { write(s: string): boolean }; stderr: { write(s: string): boolean } }; out: () => string; err: () => string } {
  let o = '';
  let e = '';
  return { io: { stdout: { write: (s: string) => ((o += s), true) }, stderr: { write: (s: string) => ((e += s), true) } }, out: () => o, err: () => e };
}

test('a removed flag is an argparse error with exit status 2, like SGLang', async () => {
  const c = capture();
  const code = await launchServerCommand(['--model-path', '/m', '--enable-deepep-moe'], c.io, {});
  assert.equal(code, 2);
  assert.match(c.err(), /^usage: sglang serve /);
  assert.match(c.err(), /sglang serve: error: unrecognized arguments: --enable-deepep-moe\n$/);
});

test('unique prefixes are accepted and an ambiguous one is refused', () => {
  assert.equal(parse(['--model-path', '/m', '--tp', '16']).tp_size, 16);
  assert.equal(parse(['--model-path', '/m', '--mem-frac', '0.8']).mem_fraction_static, 0.8);
  assert.throws(() => parse(['--model-path', '/m', '--pp', '2']), (e: unknown) => e instanceof ArgparseError && /ambiguous option: --pp could match --pp-size/.test(e.detail));
});

test('bad values name the option like argparse does', () => {
  assert.throws(() => parse(['--model-path', '/m', '--tp-size', 'x']), (e: unknown) => e instanceof ArgparseError && e.detail === "argument --tp-size/--tensor-parallel-size: invalid int value: 'x'");
  assert.throws(() => parse(['--model-path', '/m', '--deepep-mode', 'fast']), (e: unknown) => e instanceof ArgparseError && e.detail === "argument --deepep-mode: invalid choice: 'fast' (choose from 'auto', 'normal', 'low_latency')");
  assert.throws(() => parse(['--tp', '2']), (e: unknown) => e instanceof ArgparseError && /the following arguments are required: --model-path\/--model/.test(e.detail));
  assert.throws(() => parse(['--model-path', '/m', '--enable-eplb=yes']), (e: unknown) => e instanceof ArgparseError && /ignored explicit argument 'yes'/.test(e.detail));
});

test('the 4P9D decode command derives its shape: EP forced to TP by DeepEP, DP attention, per-rank chunk', () => {
  const shape = shapeFromArgs(
    parse('--model-path /models/DeepSeek-V3 --disaggregation-mode decode --dist-init-addr 10.0.0.1:5050 --nnodes 9 --node-rank 0 --tp-size 72 --dp-size 72 --enable-dp-attention --moe-a2a-backend deepep --deepep-mode low_latency --mem-fraction-static 0.835 --max-running-requests 18432 --context-length 4500 --ep-num-redundant-experts 32 --cuda-graph-bs 256 --enable-two-batch-overlap --moe-dense-tp-size 1 --chunked-prefill-size 81920 --host 0.0.0.0'.split(' ')),
  );
  assert.equal(shape.role, 'decode');
  assert.equal(shape.epSize, 72);
  assert.equal(shape.dpSize, 72);
  assert.equal(shape.enableDpAttention, true);
  assert.equal(shape.deepepMode, 'low_latency');
  assert.equal(shape.enableTwoBatchOverlap, true);
  assert.equal(shape.chunkedPrefillSizePerRank, 81920 / 72 | 0);
  assert.equal(shape.disableRadixCache, true, 'PD decode servers run without the radix cache');
});

test('SGLang assertions fail the launch with a Python traceback and exit status 1', async () => {
  assert.throws(() => shapeFromArgs(parse('--model-path /m --tp 48 --moe-a2a-backend deepep --enable-dp-attention --dp 48'.split(' '))), (e: unknown) => e instanceof LaunchAssertionError && /num_physical_experts \(256 = 256 routed \+ 0 redundant\) must be divisible by ep_size \(48\)/.test(e.message));
  assert.throws(() => shapeFromArgs(parse('--model-path /m --tp 8 --dp 3 --enable-dp-attention'.split(' '))), LaunchAssertionError);
  assert.throws(() => shapeFromArgs(parse('--model-path /m --disaggregation-mode prefill --disaggregation-transfer-backend fake'.split(' '))), LaunchAssertionError);
  const c = capture();
  assert.equal(await launchServerCommand('--model-path /m --tp 8 --enable-eplb'.split(' '), c.io, {}), 1);
  assert.match(c.err(), /Traceback \(most recent call last\):[\s\S]*AssertionError: EPLB requires ep_size > 1\n$/);
});

test('weights that cannot fit are a start-up error, as on a real GPU', async () => {
  const c = capture();
  assert.equal(await launchServerCommand('--model-path /m --tp 1'.split(' '), c.io, {}), 1);
  assert.match(c.err(), /RuntimeError: Not enough memory/);
});

test('the router rejects unknown flags and needs both pools in PD mode', async () => {
  const c = capture();
  assert.equal(await routerCommand(['--pd-disaggregation', '--prefil', 'http://a:1'], c.io, {}), 2);
  const c2 = capture();
  assert.equal(await routerCommand(['--no-such-flag'], c2.io, {}), 2);
  assert.match(c2.err(), /launch_router.py: error: unrecognized arguments: --no-such-flag/);
  const c3 = capture();
  assert.equal(await routerCommand(['--pd-disaggregation', '--prefill', 'http://127.0.0.1:1', '8998'], c3.io, {}), 1);
  assert.match(c3.err(), /requires at least one --prefill and one --decode/);
});

test('--prefill takes a URL and an optional bootstrap port, repeatedly', () => {
  const { values } = parseArgs('launch_router.py', ROUTER_ARG_SPECS, ['--pd-disaggregation', '--prefill', 'http://p0:30000', '8998', '--prefill', 'http://p1:30000', '--decode', 'http://d0:30000', '--port', '8000']);
  assert.deepEqual(values.prefill, [['http://p0:30000', '8998'], ['http://p1:30000']]);
  assert.deepEqual(values.decode, [['http://d0:30000']]);
  assert.equal(values.port, 8000);
});
