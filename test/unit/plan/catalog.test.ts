import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalFlag, flagsFor, lookupFlag, scanArgs } from '../../../src/core/plan/catalog';
import { renderSglangArgsModule } from '../../../src/core/plan/data/generate-sglang-args';

const dataDir = join(__dirname, '..', '..', '..', 'src', 'core', 'plan', 'data');

test('the generated catalog module matches the TSV it was generated from', () => {
  const tsv = readFileSync(join(dataDir, 'sglang-server-args.tsv'), 'utf8');
  const ts = readFileSync(join(dataDir, 'sglang-server-args.ts'), 'utf8');
  assert.equal(ts, renderSglangArgsModule(tsv), 'run: node --import tsx src/core/plan/data/generate-sglang-args.ts');
});

test('every option of the catalog commit is known, with aliases mapped to the main spelling', () => {
  assert.equal(flagsFor('sglang', '0.5.15').length > 440, true);
  assert.equal(canonicalFlag('sglang', '--ep'), '--ep-size');
  assert.equal(canonicalFlag('sglang', '--tp'), '--tp-size');
  assert.equal(canonicalFlag('sglang', '--expert-parallel-size'), '--ep-size');
  const info = lookupFlag('sglang', '0.5.15', '--disaggregation-bootstrap-port').info;
  assert.equal(info?.default, '8998');
  assert.equal(info?.type, 'int');
  assert.deepEqual(lookupFlag('sglang', '0.5.15', '--deepep-mode').info?.choices, ['auto', 'normal', 'low_latency']);
});

test('--enable-deepep-moe: accepted in 0.4.6.post2, deprecated from 0.4.10.post2, gone in 0.5.4.post1', () => {
  assert.equal(lookupFlag('sglang', '0.4.6.post2', '--enable-deepep-moe').status, 'ok');
  const dep = lookupFlag('sglang', '0.5.4', '--enable-deepep-moe');
  assert.equal(dep.status, 'deprecated');
  assert.equal(dep.replacement, '--moe-a2a-backend deepep');
  assert.equal(lookupFlag('sglang', '0.5.4.post1', '--enable-deepep-moe').status, 'removed');
  assert.equal(lookupFlag('sglang', 'latest', '--enable-deepep-moe').status, 'removed');
  assert.equal(lookupFlag('sglang', '0.4.10', '--moe-a2a-backend').status, 'not-yet');
  assert.equal(lookupFlag('sglang', '0.4.10.post2', '--moe-a2a-backend').status, 'ok');
});

test('a change dated between two known releases is "uncertain" there, not guessed', () => {
  // #19618 (2026-03-02): present in 0.5.6.post2, gone by 0.5.10
  assert.equal(lookupFlag('sglang', '0.5.6.post2', '--disaggregation-decode-tp').status, 'ok');
  const mid = lookupFlag('sglang', '0.5.8', '--disaggregation-decode-tp');
  assert.equal(mid.status, 'uncertain');
  assert.match(mid.message ?? '', /between 0\.5\.6\.post2 and 0\.5\.10/);
  assert.equal(lookupFlag('sglang', '0.5.10', '--disaggregation-decode-tp').status, 'removed');
});

test('argparse prefixes: --mem-frac resolves, --pp is ambiguous, a typo is unknown with a suggestion', () => {
  const frac = lookupFlag('sglang', '0.5.15', '--mem-frac');
  assert.equal(frac.status, 'ok');
  assert.equal(frac.info?.name, '--mem-fraction-static');
  assert.equal(frac.viaPrefix, true);
  const pp = lookupFlag('sglang', '0.5.15', '--pp');
  assert.equal(pp.status, 'unknown');
  assert.match(pp.message ?? '', /ambiguous/);
  const typo = lookupFlag('sglang', '0.5.15', '--enable-dp-atention');
  assert.equal(typo.status, 'unknown');
  assert.equal(typo.replacement, '--enable-dp-attention');
  // an older release may have had options the newest catalog lacks: not an error there
  assert.equal(lookupFlag('sglang', '0.4.7', '--some-old-option').status, 'uncertain');
});

test('--flag=value is looked up by its flag', () => {
  assert.equal(lookupFlag('sglang', '0.5.15', '--tp-size=8').info?.name, '--tp-size');
});

test('scanArgs consumes values the way argparse does', () => {
  const scanned = scanArgs('sglang', '0.5.15', ['--cuda-graph-bs-decode', '1', '2', '4', '--disable-radix-cache', '--page-size', '1', 'stray']);
  assert.deepEqual(scanned.map((s) => [s.index, s.flag, s.value]), [
    [0, '--cuda-graph-bs-decode', '1 2 4'],
    [4, '--disable-radix-cache', undefined],
    [5, '--page-size', '1'],
    [7, '', 'stray'],
  ]);
});

test('vLLM: the compact list knows the planner\'s flags and their first releases', () => {
  assert.equal(lookupFlag('vllm', '0.12.0', '--all2all-backend').status, 'ok');
  assert.equal(lookupFlag('vllm', '0.10.1', '--all2all-backend').status, 'not-yet');
  assert.equal(canonicalFlag('vllm', '-tp'), '--tensor-parallel-size');
  // not in the compact list: a warning-level "uncertain", never an error
  assert.equal(lookupFlag('vllm', '0.12.0', '--kv-cache-dtype').status, 'uncertain');
});
