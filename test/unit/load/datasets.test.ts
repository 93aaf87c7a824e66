import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { applyCacheBust, DatasetError, loadDataset } from '../../../src/core/load/datasets';
import { lengthBounds } from '../../../src/core/load/datasets/lengths';
import { WORDS } from '../../../src/core/load/datasets/words';

const FIX = path.resolve(__dirname, '../../fixtures/datasets');

test("SGLang's range ratio samples [max(1, floor(L*r)), L]; vLLM's is symmetric around L", () => {
  assert.deepEqual(lengthBounds(100, 0, 'sglang'), [1, 100]);
  assert.deepEqual(lengthBounds(100, 0.5, 'sglang'), [50, 100]);
  assert.deepEqual(lengthBounds(100, 1, 'sglang'), [100, 100]);
  assert.deepEqual(lengthBounds(100, 0.5, 'vllm'), [50, 150]);
  assert.deepEqual(lengthBounds(5, 0.9, 'vllm', 1), [1, 10]);
  assert.throws(() => lengthBounds(100, 1, 'vllm'), /\[0, 1\)/);
});

test('random dataset: lengths in range, prompt sized to the length, same seed same rows', async () => {
  const spec = { name: 'random' as const, numPrompts: 200, seed: 7, inputLen: 64, outputLen: 16, rangeRatio: 0.5 };
  const rows = await loadDataset(spec);
  assert.equal(rows.length, 200);
  for (const r of rows) {
    assert.ok(r.promptLen >= 32 && r.promptLen <= 64, `input ${r.promptLen}`);
    assert.ok(r.outputLen >= 8 && r.outputLen <= 16, `output ${r.outputLen}`);
    assert.equal(typeof r.prompt, 'string');
    // one word per token, one left for the BOS the server adds
    assert.equal((r.prompt as string).split(' ').length, r.promptLen - 1);
  }
  assert.ok(new Set(rows.map((r) => r.promptLen)).size > 10, 'lengths vary');
  assert.deepEqual(await loadDataset(spec), rows);
  assert.notDeepEqual(await loadDataset({ ...spec, seed: 8 }), rows);
  const fixed = await loadDataset({ ...spec, rangeRatio: 1 });
  assert.ok(fixed.every((r) => r.promptLen === 64 && r.outputLen === 16));
});

test('random-ids: consecutive ids from a random offset, modulo the vocabulary', async () => {
  const rows = await loadDataset({ name: 'random-ids', numPrompts: 5, seed: 1, inputLen: 10, outputLen: 4, rangeRatio: 1, vocabSize: 50 });
  rows.forEach((r, i) => {
    assert.ok(Array.isArray(r.prompt));
    const ids = r.prompt as number[];
    assert.equal(ids.length, 10);
    for (let j = 1; j < ids.length; j++) assert.equal(ids[j], (ids[0] + j) % 50);
    assert.ok(ids.every((x) => x >= 0 && x < 50));
    void i;
  });
});

test('generated shared prefix: groups share their system prompt', async () => {
  const rows = await loadDataset({ name: 'generated-shared-prefix', numPrompts: 0, seed: 3, sharedPrefix: { numGroups: 3, promptsPerGroup: 4, systemPromptLen: 20, questionLen: 5, outputLen: 7 } });
  assert.equal(rows.length, 12);
  const byGroup = new Map<number, string[]>();
  for (const r of rows) {
    const [system] = (r.prompt as string).split('\n\n');
    byGroup.set(r.group ?? -1, [...(byGroup.get(r.group ?? -1) ?? []), system]);
    assert.equal(r.promptLen, 25);
    assert.equal(r.outputLen, 7);
  }
  assert.equal(byGroup.size, 3);
  for (const systems of byGroup.values()) assert.equal(new Set(systems).size, 1);
});

test('ShareGPT: two-turn conversations, prompt from turn 0, output sized by turn 1, short ones skipped', async () => {
  const rows = await loadDataset({ name: 'sharegpt', numPrompts: 10, seed: 1, path: path.join(FIX, 'sharegpt-sample.json') });
  assert.equal(rows.length, 2);
  assert.ok(rows.some((r) => String(r.prompt).startsWith('Summarize the main ideas')));
  assert.ok(rows.every((r) => r.outputLen > 20));
  const fixed = await loadDataset({ name: 'sharegpt', numPrompts: 10, seed: 1, path: path.join(FIX, 'sharegpt-sample.json'), sharegptOutputLen: 64 });
  assert.ok(fixed.every((r) => r.outputLen === 64));
});

test('GSM8K, MMLU, AlpacaEval and plain JSONL files load with their answers', async () => {
  const gsm = await loadDataset({ name: 'gsm8k', numPrompts: 2, seed: 1, path: path.join(FIX, 'gsm8k-sample.jsonl') });
  assert.equal(gsm.length, 2);
  assert.match(String(gsm[0].prompt), /^Question: Janet.s ducks/);
  assert.equal(gsm[0].answerKind, 'gsm8k');
  assert.match(gsm[0].answer ?? '', /#### 18$/);
  const mmlu = await loadDataset({ name: 'mmlu', numPrompts: 10, seed: 1, path: path.join(FIX, 'mmlu-sample.csv') });
  assert.equal(mmlu.length, 3);
  assert.equal(mmlu[2].answer, 'D');
  assert.match(String(mmlu[2].prompt), /C\. 0,1\nD\. 0,4\nAnswer:$/);
  const alpaca = await loadDataset({ name: 'alpaca-eval', numPrompts: 10, seed: 1, path: path.join(FIX, 'alpaca-eval-sample.json'), outputLen: 100 });
  assert.deepEqual(alpaca.map((r) => r.outputLen), [100, 100]);
  const plain = await loadDataset({ name: 'jsonl', numPrompts: 10, seed: 1, path: path.join(FIX, 'plain-sample.jsonl') });
  assert.deepEqual(plain.map((r) => r.outputLen), [32, 256]);
});

test('a missing or malformed file names the file', async () => {
  await assert.rejects(loadDataset({ name: 'gsm8k', numPrompts: 1, seed: 1, path: path.join(FIX, 'nope.jsonl') }), (e: unknown) => e instanceof DatasetError && /nope\.jsonl/.test(e.where.file ?? ''));
  await assert.rejects(loadDataset({ name: 'gsm8k', numPrompts: 1, seed: 1, path: path.join(FIX, 'mmlu-sample.csv') }), /Line 1 is not valid JSON/);
  await assert.rejects(loadDataset({ name: 'jsonl', numPrompts: 1, seed: 1 }), /no path was given/);
});

test('cache busting gives every prompt a per-run prefix, one per group for shared prefixes', async () => {
  const rows = await loadDataset({ name: 'random', numPrompts: 3, seed: 1, inputLen: 8, outputLen: 2 });
  const a = applyCacheBust(rows, 'aaaa1111');
  const b = applyCacheBust(rows, 'bbbb2222');
  assert.notEqual(a[0].prompt, b[0].prompt);
  assert.notEqual(String(a[0].prompt).slice(0, 12), String(a[1].prompt).slice(0, 12));
  assert.ok(a.every((r, i) => r.promptLen > rows[i].promptLen));
  const gsp = await loadDataset({ name: 'generated-shared-prefix', numPrompts: 0, seed: 1, sharedPrefix: { numGroups: 2, promptsPerGroup: 2, systemPromptLen: 4, questionLen: 2, outputLen: 2, ordered: true } });
  const busted = applyCacheBust(gsp, 'cccc3333');
  assert.equal(String(busted[0].prompt).split(' ')[0], String(busted[1].prompt).split(' ')[0]);
  assert.notEqual(String(busted[0].prompt).split(' ')[0], String(busted[2].prompt).split(' ')[0]);
});

test('the prompt vocabulary is short words only (one token each)', () => {
  assert.ok(WORDS.length > 100);
  assert.ok(WORDS.every((w) => /^[a-z]{1,3}$/.test(w)));
});
