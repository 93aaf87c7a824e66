import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockPromptBuilder, checkBlockConsistency, traceReuse } from '../../../src/core/load/workloads/block-prompts';
import { parseAzure, parseBurstGpt, parseMooncake } from '../../../src/core/load/workloads/trace-formats';
import { DatasetError } from '../../../src/core/load/datasets/errors';

const sharedLen = (a: readonly number[], b: readonly number[]): number => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
};

test('requests whose hash_ids share a leading run share exactly that many blocks of prefix', () => {
  const b = new BlockPromptBuilder({ blockSize: 512, vocabSize: 32000, seed: 7 });
  const a = b.prompt([1, 2, 3, 4], 1800);
  const c = b.prompt([1, 2, 9], 1300);
  const d = b.prompt([5, 2, 3], 1100);
  assert.equal(a.length, 1800);
  assert.equal(c.length, 1300);
  assert.equal(sharedLen(a, c), 1024, 'two shared blocks, then different tokens');
  assert.equal(sharedLen(a, d), 0, 'same later ids but a different first block: no shared prefix');
  // the same ids give the same tokens; a shorter last block is a prefix of the full block
  assert.deepEqual(b.prompt([1, 2], 700), a.slice(0, 700));
});

test('a new seed (the run salt) gives new tokens with the same sharing', () => {
  const one = new BlockPromptBuilder({ blockSize: 16, vocabSize: 1000, seed: 1 });
  const two = new BlockPromptBuilder({ blockSize: 16, vocabSize: 1000, seed: 2 });
  assert.notDeepEqual(one.prompt([3], 16), two.prompt([3], 16));
  assert.equal(sharedLen(two.prompt([3, 4], 32), two.prompt([3, 5], 32)), 16);
});

test('requests without hash ids (Azure, BurstGPT) share no prefix', () => {
  const b = new BlockPromptBuilder({ blockSize: 512, vocabSize: 32000, seed: 7 });
  assert.ok(sharedLen(b.prompt([], 300, 0), b.prompt([], 300, 1)) < 3);
});

test('input_length inconsistent with the hash ids and block size is refused, naming the request', () => {
  const reqs = parseMooncake('{"timestamp": 0, "input_length": 600, "output_length": 10, "hash_ids": [1, 2]}\n{"timestamp": 5, "input_length": 1100, "output_length": 10, "hash_ids": [1, 2]}\n', 't.jsonl');
  assert.throws(() => checkBlockConsistency(reqs, 512, 't.jsonl'), (e: Error) => e instanceof DatasetError && /Request 2 .* 2 hash ids but input_length 1100.*\(512, 1024\]/.test(e.message));
});

test('a Mooncake line without hash_ids is refused with its line number', () => {
  assert.throws(() => parseMooncake('{"timestamp": 0, "input_length": 6, "output_length": 1, "hash_ids": [1]}\n{"timestamp": 1, "input_length": 6, "output_length": 1}\n', 'x.jsonl'), /line 2: "hash_ids"/);
});

test('theoretical reuse follows the hash chains in arrival order (radix semantics, last token computed)', () => {
  const r = traceReuse(
    [
      { offsetMs: 0, inputLen: 1024, outputLen: 1, hashIds: [1, 2] },
      // shares block 1 fully, then a new block: 512 cached
      { offsetMs: 1, inputLen: 1000, outputLen: 1, hashIds: [1, 3] },
      // block 2 alone (different chain): nothing cached
      { offsetMs: 2, inputLen: 512, outputLen: 1, hashIds: [2] },
      // the same prompt as the first: all but the last token
      { offsetMs: 3, inputLen: 1024, outputLen: 1, hashIds: [1, 2] },
    ],
    512,
  );
  assert.equal(r.promptTokens, 1024 + 1000 + 512 + 1024);
  assert.equal(r.cachedTokens, 512 + 0 + 1023);
});

test('Azure and BurstGPT CSV layouts give ms offsets and lengths; BurstGPT failed rows are skipped', () => {
  const az = parseAzure('TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,4808,10\n2023-11-16 18:15:50.9951690,3180,8\n', 'az.csv');
  assert.equal(az.length, 2);
  assert.ok(Math.abs(az[1].offsetMs - az[0].offsetMs - 4314.579) < 0.01);
  assert.deepEqual([az[0].inputLen, az[0].outputLen], [4808, 10]);
  const bg = parseBurstGpt('Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n5,ChatGPT,472,18,490,Conversation log\n45,ChatGPT,1087,0,1087,Conversation log\n46.5,GPT-4,417,276,693,Conversation log\n', 'b.csv');
  assert.deepEqual(bg.map((r) => [r.offsetMs, r.inputLen, r.outputLen]), [[5000, 472, 18], [46500, 417, 276]]);
  assert.throws(() => parseBurstGpt('Timestamp,Request tokens\n1,2\n', 'b.csv'), /lacks column "Response tokens"/);
});

test("promptStyle sglang writes bench_serving's own Mooncake prompt: the id glued to 128 'hi' per block, input_length unused", async () => {
  const { sglangMooncakeRow } = await import('../../../src/core/load/workloads/sglang-mooncake');
  const row = sglangMooncakeRow({ offsetMs: 0, inputLen: 6955, outputLen: 52, hashIds: [46, 47] });
  const content = row.messages?.[0].content ?? '';
  assert.ok(content.startsWith(`Round 1: 46hi hi `));
  assert.ok(content.includes(`hi47hi hi`));
  assert.ok(content.endsWith('hiTell me a story based on this context.'));
  assert.equal(content.slice(0, -'Tell me a story based on this context.'.length).split('hi').length - 1, 256);
  assert.equal(row.prompt, `user: ${content}`);
  assert.equal(row.outputLen, 52);
});
