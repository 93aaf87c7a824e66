import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PagedPrefixCache } from '../../../src/core/sim/engine/prefix-cache';
import { chatPromptPages, idsPromptPages, PAGE_TOKENS, textPromptPages } from '../../../src/core/sim/prompt-pages';
import { countChatPromptTokens, countPromptTokens } from '../../../src/core/sim/tokenizer';
import { WorkerSelector } from '../../../src/core/sim/router-policy';

const ids = (n: number, from = 1000): number[] => Array.from({ length: n }, (_, i) => from + i);

test('the emulated radix cache serves the shared prefix of token prompts, to the 16-token page', () => {
  const c = new PagedPrefixCache(1 << 20);
  assert.equal(c.lookup(idsPromptPages(ids(1024)), 1024), 0);
  // shares the first 600 tokens: 37 whole pages (592 tokens)
  const other = [...ids(600), ...ids(400, 50_000)];
  assert.equal(c.lookup(idsPromptPages(other), 1000), Math.floor(600 / PAGE_TOKENS) * PAGE_TOKENS);
  // the same prompt again: everything but the last token (SGLang computes at least one)
  assert.equal(c.lookup(idsPromptPages(ids(1024)), 1024), 1023);
});

test('a chat turn finds the previous turn whole: its prompt, the reply and the template tokens', () => {
  const c = new PagedPrefixCache(1 << 20);
  const turn1 = [{ role: 'user', content: 'the cat sat on the mat and then it ran off to see a dog' }];
  const p1 = countChatPromptTokens(turn1);
  c.lookup(chatPromptPages(turn1), p1);
  const turn2 = [...turn1, { role: 'assistant', content: ' etao inhs rdlu' }, { role: 'user', content: 'why did it run' }];
  const cached = c.lookup(chatPromptPages(turn2), countChatPromptTokens(turn2));
  assert.equal(cached, Math.floor(p1 / PAGE_TOKENS) * PAGE_TOKENS);
  assert.ok(cached > 0);
  // pages count tokens exactly as the server's tokenizer does
  const text = 'Hello, world!  What is 12345 + 678?';
  assert.equal(textPromptPages(text).lengths.reduce((a, b) => a + b, 0), countPromptTokens(text));
});

test('the cache holds at most its capacity and evicts the least recently used leaves first', () => {
  const c = new PagedPrefixCache(64);
  c.lookup(idsPromptPages(ids(64)), 64);
  assert.equal(c.tokens, 64);
  c.lookup(idsPromptPages(ids(32, 9000)), 32);
  assert.equal(c.tokens, 64);
  // the first prompt lost its last pages, not its first ones
  assert.equal(c.lookup(idsPromptPages(ids(32)), 32), 31);
});

test("the emulated router's cache_aware policy keeps a conversation on the worker that has its prefix", () => {
  const s = new WorkerSelector('cache_aware', 3);
  const history = 'system: you are terse\nuser: ' + 'tell me about the sea '.repeat(40);
  const first = s.select(history);
  const other = s.select('user: ' + 'something else entirely '.repeat(40));
  assert.notEqual(other, first, 'no match: the smallest tree');
  assert.equal(s.select(history + '\nassistant: ok\nuser: more'), first);
  // imbalance (max - min > 64 and max > 1.5 x min) sends it to the least loaded instead
  s.loads[first] = 100;
  assert.notEqual(s.select(history + '\nassistant: ok\nuser: more again'), first);
  const rr = new WorkerSelector('round_robin', 3);
  assert.deepEqual([rr.select(history), rr.select(history), rr.select(history), rr.select(history)], [0, 1, 2, 0]);
});
