import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { countChatPromptTokens, countPromptTokens, countTextTokens, outputText, textOfTokens } from '../../../src/core/sim/tokenizer';

test('counting rule: word pieces carry one leading space and count ceil(length / 4)', () => {
  assert.equal(countTextTokens('hello'), 2); // 5 chars
  assert.equal(countTextTokens(' abc'), 1); // space + 3 letters
  assert.equal(countTextTokens('hello world'), 4); // "hello" 2 + " world" 2
  assert.equal(countTextTokens('a, b!'), 4); // "a" "," " b" "!"
  assert.equal(countTextTokens('\n\n  x'), 2); // "\n\n " then " x"
  assert.equal(countTextTokens('héllo'), 3); // "h" "é" "llo"
  assert.equal(countTextTokens(''), 0);
});

test('a text prompt counts one BOS on top of its text', () => {
  assert.equal(countPromptTokens('hello world'), 5);
});

test('chat prompts count BOS, a role token per message and the assistant prefix', () => {
  assert.equal(countChatPromptTokens([{ role: 'user', content: 'hi' }]), 1 + (1 + 1) + 1);
  assert.equal(countChatPromptTokens([{ role: 'system', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }]), 1 + (1 + 3) + (1 + 1) + 1);
});

test('textOfTokens builds text of exactly the asked token count', () => {
  for (const n of [0, 1, 7, 100, 2048]) assert.equal(countTextTokens(textOfTokens(n, 42)), n);
});

test('generated text re-tokenizes to exactly the number of generated tokens', () => {
  for (const n of [1, 2, 33, 1000]) assert.equal(countTextTokens(outputText(12345, n)), n);
});

test('generated text is deterministic in the seed and differs between seeds', () => {
  assert.equal(outputText(7, 50), outputText(7, 50));
  assert.notEqual(outputText(7, 50), outputText(8, 50));
});
