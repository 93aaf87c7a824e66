import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { reasoningSplit, splitRecord } from '../../../src/core/metrics/reasoning';
import type { RequestRecord } from '../../../src/core/metrics/record';

/** a streamed record as the client stores it: cumulative text split into chunks with arrival times */
function record(chunks: [ms: number, text: string][], outputTokens: number): RequestRecord {
  return {
    seq: 0, row: 0, scheduledMs: 0, dispatchedMs: 0, startMs: 0, promptLen: 10, maxTokens: 100, ok: true, lastLineMs: chunks.at(-1)?.[0] ?? 0,
    chunkMs: chunks.map((c) => c[0]), chunkChars: chunks.map((c) => c[1].length), chunkTokens: chunks.map(() => -1),
    outputTokens, promptTokens: 10, cachedTokens: null, text: chunks.map((c) => c[1]).join(''),
  } as RequestRecord;
}

test('inline <think> output: thinking counted apart, time to first answer token is the first chunk with answer text', () => {
  const r = record([[50, '<think>'], [60, 'let me see'], [70, '</think>'], [80, '\n\n'], [90, 'The answer'], [100, ' is 4.']], 6);
  const s = splitRecord(r);
  assert.deepEqual(s, { reasoningChars: '<think>let me see</think>'.length, answerChars: '\n\nThe answer is 4.'.length, firstAnswerMs: 90 });
  const split = reasoningSplit([r, record([[40, 'plain answer']], 2)]);
  assert.ok(split);
  assert.equal(split.reasoningRequests, 1);
  assert.equal(split.requests, 2);
  assert.equal(split.ttfatMs.mean, 90);
  assert.equal(split.reasoningTokens + split.answerTokens, 8);
  assert.equal(split.noAnswer, 0);
});

test('thinking cut by max tokens has no answer; a reasoning_content client count per chunk wins over tags', () => {
  const cut = reasoningSplit([record([[30, '<think>'], [40, 'still thinking']], 2)]);
  assert.equal(cut?.noAnswer, 1);
  assert.equal(cut?.ttfatMs.mean, null);
  const parsed = { ...record([[30, 'hmm'], [40, 'so'], [55, 'Yes.']], 3), reasoningChars: [3, 2, 0] };
  assert.deepEqual(splitRecord(parsed), { reasoningChars: 5, answerChars: 4, firstAnswerMs: 55 });
  assert.equal(reasoningSplit([record([[10, 'no thinking here']], 3)]), undefined);
});
