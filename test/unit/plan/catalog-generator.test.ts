import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CatalogSourceError, extractRouterArgs, extractSglangServerArgs, SGLANG_SERVER_ARGS_PATH } from '../../../src/core/engines/catalog-gen/extract';
import { openSource } from '../../../src/core/engines/catalog-gen/sources';
import { extractVllmServeArgs, isVllmSourcePath } from '../../../src/core/engines/catalog-gen/vllm-extract';
import { FIXTURES } from './helpers';

// The generator behind `npm run catalog:sglang`, on real excerpts of SGLang source (one per layout,
// see test/fixtures/plan/catalog/README.md).

const dir = join(FIXTURES, 'catalog');
const repo = join(__dirname, '..', '..', '..');

test('L1 (v0.4.6): add_argument calls, defaults from the dataclass, aliases and choices', () => {
  const c = extractSglangServerArgs(openSource(join(dir, 'l1')).read());
  assert.equal(c.layout, 'L1');
  const by = new Map(c.flags.map((f) => [f.flags[0], f]));
  assert.deepEqual([...by.keys()], ['--model-path', '--tokenizer-mode', '--chunked-prefill-size', '--tensor-parallel-size', '--dist-init-addr', '--enable-deepep-moe', '--deepep-mode']);
  assert.equal(by.get('--model-path')?.default, '(required)');
  assert.equal(by.get('--tokenizer-mode')?.default, 'auto');
  assert.deepEqual(by.get('--tensor-parallel-size')?.flags, ['--tensor-parallel-size', '--tp-size']);
  assert.deepEqual(by.get('--dist-init-addr')?.flags, ['--dist-init-addr', '--nccl-init-addr']);
  assert.equal(by.get('--enable-deepep-moe')?.type, 'flag');
  assert.deepEqual(by.get('--deepep-mode')?.choices, ['normal', 'low_latency', 'auto']);
});

test('L2 (main b26729f): annotated fields, choices from a module constant, manual deprecated and dynamic flags; router args', () => {
  const files = openSource(join(dir, 'l2')).read();
  const c = extractSglangServerArgs(files);
  assert.equal(c.layout, 'L2');
  const by = new Map(c.flags.map((f) => [f.flags[0], f]));
  assert.deepEqual(by.get('--tp-size')?.flags, ['--tp-size', '--tensor-parallel-size']);
  assert.deepEqual(by.get('--moe-a2a-backend')?.choices, ['none', 'deepep', 'mooncake', 'nixl', 'mori', 'ascend_fuseep', 'flashinfer', 'megamoe', 'pplx', 'ascend_tp']);
  assert.equal(by.get('--cuda-graph-bs-decode')?.type, 'list[int]');
  const dep = by.get('--cuda-graph-bs');
  assert.equal(dep?.deprecated, true);
  assert.equal(dep?.replacement, '--cuda-graph-bs-decode');
  // choices computed from a plugin registry at run time cannot be listed statically
  assert.equal(by.get('--reasoning-parser')?.dynamicChoices, true);
  assert.equal(by.get('--reasoning-parser')?.default, 'None');
  const router = extractRouterArgs(files);
  assert.deepEqual(router?.flags.map((f) => [f.flags[0], f.default]), [['--policy', 'cache_aware'], ['--prefill-policy', 'None'], ['--decode-policy', 'None']]);
  assert.ok(router?.flags[2].choices?.includes('bucket'));
});

test('L3 (arg_groups/fields/*.py): namespace structs, imported choices, cli_name, Literal choices', () => {
  const c = extractSglangServerArgs(openSource(join(dir, 'l3')).read());
  assert.equal(c.layout, 'L3');
  const by = new Map(c.flags.map((f) => [f.flags[0], f]));
  assert.ok(by.get('--moe-a2a-backend')?.choices?.includes('deepep_v2'));
  assert.equal(by.get('--moe-a2a-backend')?.namespace, 'exec.moe');
  assert.deepEqual(by.get('--deepep-v2-mode')?.choices, ['direct', 'hybrid']);
  assert.equal(by.get('--enable-pd-role-switch')?.type, 'flag');
  assert.deepEqual(by.get('--disaggregation-transfer-backend')?.choices, ['mooncake', 'nixl', 'ascend', 'fake', 'mori', 'mooncake_tcp']);
  assert.equal(by.get('--encoder-urls')?.default, '[]');
  // Arg(cli_name=...) renames the flag; the dest stays the field
  assert.equal(by.get('--elastic-ep-join-mode')?.dest, 'ep_join_mode');
  assert.equal(by.get('--rl-on-policy-target')?.choices?.join(), 'fsdp');
  // a *_hook.py that rewrites a field after parsing is named in that flag's help
  assert.deepEqual(by.get('--disaggregation-transfer-backend')?.rewrittenBy, ['pd_disaggregation_hook.py']);
  assert.match(by.get('--disaggregation-transfer-backend')?.help ?? '', /may be rewritten at start by pd_disaggregation_hook\.py/);
  // the manual deprecated flag of server_args.py comes after the fields
  assert.equal(c.flags[c.flags.length - 1].flags[0], '--cuda-graph-bs');
});

test('the generator reproduces the committed catalog from the fixtures it reads', () => {
  const out = mkdtempSync(join(tmpdir(), 'catalog-'));
  try {
    const file = join(out, 'catalog.ts');
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'scripts', 'catalog-sglang.ts'), join(dir, 'l3'), '--snapshot', `0.4.6=${join(dir, 'l1')}`, '--snapshot', `0.5.17=${join(dir, 'l2')}`, '--out', file], { cwd: repo, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /0\.4\.6: 7 flags, 0 router flags \(L1, 84022c0e56\)/);
    assert.match(run.stderr, /HEAD: 12 flags, 0 router flags \(L3, 01d795f8aa\)/);
    assert.equal(readFileSync(file, 'utf8'), readFileSync(join(dir, 'expected-catalog.ts.txt'), 'utf8'));
    // what the user sees in it: each revision with its commit, and each flag's history
    const text = readFileSync(file, 'utf8');
    assert.match(text, /"version":"0\.5\.17","commit":"b26729f2245cc31992a0f29835e24c5fcac58b1d"/);
    assert.match(text, /"--enable-deepep-moe": "\+\.\."/);
    assert.match(text, /"--deepep-v2-mode": "\.\.\+"/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('bad source is refused with the file and line, and a usage error names the option', () => {
  const broken = new Map([[SGLANG_SERVER_ARGS_PATH, 'class ServerArgs:\n    tp_size: int = 1\n\n    @staticmethod\n    def add_cli_args(parser):\n        parser.add_argument(\n            "--tp-size",\n            type=int\n            default=1,\n        )\n']]);
  assert.throws(() => extractSglangServerArgs(broken), (e: unknown) => e instanceof CatalogSourceError && /^python\/sglang\/srt\/server_args\.py:6: cannot read this add_argument call: python\/sglang\/srt\/server_args\.py:9: expected "," or "\)" in a call/.test(e.message));
  assert.throws(() => extractSglangServerArgs(new Map()), /python\/sglang\/srt\/server_args\.py is missing: point the script at an SGLang checkout/);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'scripts', 'catalog-sglang.ts'), join(dir, 'l1'), '--snapshot', 'oops'], { cwd: repo, encoding: 'utf8' });
  assert.equal(run.status, 2);
  assert.match(run.stderr, /catalog:sglang: --snapshot oops: write VERSION=PATH/);
});

test('vLLM: npm run catalog:vllm reads EngineArgs.add_cli_args, the config dataclasses and the frontend args', () => {
  const files = openSource(join(dir, 'vllm'), isVllmSourcePath).read();
  const flags = extractVllmServeArgs(files);
  const by = new Map(flags.map((f) => [f.flags[0], f]));
  assert.deepEqual(by.get('--tensor-parallel-size')?.flags, ['--tensor-parallel-size', '-tp']);
  assert.equal(by.get('--tensor-parallel-size')?.default, '1');
  assert.equal(by.get('--tensor-parallel-size')?.help, 'Number of tensor parallel groups.');
  // a Literal type alias becomes the choices
  assert.ok(by.get('--all2all-backend')?.choices?.includes('deepep_v2'));
  assert.equal(by.get('--all2all-backend')?.default, 'allgather_reducescatter');
  // **{**scheduler_kwargs["max_num_seqs"], "default": None}
  assert.equal(by.get('--max-num-seqs')?.type, 'int');
  assert.equal(by.get('--max-num-seqs')?.default, 'None');
  assert.equal(by.get('--port')?.default, '8000');
  const out = mkdtempSync(join(tmpdir(), 'catalog-'));
  try {
    const file = join(out, 'vllm.ts');
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'scripts', 'catalog-vllm.ts'), join(dir, 'vllm'), '--out', file], { cwd: repo, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(readFileSync(file, 'utf8'), readFileSync(join(dir, 'expected-vllm.ts.txt'), 'utf8'));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('an excerpt with a bracket left open is refused at the line that opened it', () => {
  const files = new Map([[SGLANG_SERVER_ARGS_PATH, 'CHOICES = [\n    "a",\n    "b",\n\nclass ServerArgs:\n    x: int = 1\n']]);
  assert.throws(() => extractSglangServerArgs(files), /python\/sglang\/srt\/server_args\.py:1: this bracket is never closed/);
});
