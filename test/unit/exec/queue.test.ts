import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecutionQueue } from '../../../src/core/exec/queue';
import { CellRunStateMachine, IllegalTransitionError } from '../../../src/core/exec/state';

test('cells run one at a time in the order asked', async () => {
  const q = new ExecutionQueue<string>();
  const log: string[] = [];
  const job = (k: string, ms: number) => ({
    key: k,
    run: async () => {
      log.push(`start ${k}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${k}`);
    },
  });
  q.enqueue([job('a', 20), job('b', 1)]);
  q.enqueue([job('c', 1)]);
  await q.whenIdle();
  assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
});

test('a failure stops the rest of its batch but not later batches', async () => {
  const q = new ExecutionQueue<string>();
  const ends: string[] = [];
  q.enqueue([
    { key: 'a', run: async () => { throw new Error('boom'); }, onEnd: (s) => ends.push(`a:${s}`) },
    { key: 'b', run: async () => undefined, onEnd: (s) => ends.push(`b:${s}`) },
  ]);
  q.enqueue([{ key: 'c', run: async () => undefined, onEnd: (s) => ends.push(`c:${s}`) }]);
  await q.whenIdle();
  assert.deepEqual(ends, ['a:failed', 'b:cancelled', 'c:succeeded']);
});

test('cancelling a running cell aborts its signal and ends it cancelled exactly once', async () => {
  const q = new ExecutionQueue<string>();
  const ends: string[] = [];
  q.enqueue([
    {
      key: 'a',
      run: (signal) => new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })))),
      onEnd: (s) => ends.push(s),
    },
  ]);
  await new Promise((r) => setTimeout(r, 5));
  q.cancel('a');
  q.cancel('a');
  await q.whenIdle();
  assert.deepEqual(ends, ['cancelled']);
});

test('cancelling a pending cell never starts it', async () => {
  const q = new ExecutionQueue<string>();
  let ranB = false;
  let release: () => void = () => undefined;
  q.enqueue([{ key: 'a', run: () => new Promise<void>((r) => (release = r)) }, { key: 'b', run: async () => void (ranB = true) }]);
  q.cancel('b');
  release();
  await q.whenIdle();
  assert.equal(ranB, false);
});

test('state machine refuses double start and double end', () => {
  const m = new CellRunStateMachine();
  m.transition('running');
  assert.throws(() => m.transition('running'), IllegalTransitionError);
  m.transition('succeeded');
  assert.throws(() => m.transition('failed'), IllegalTransitionError);
  assert.equal(m.tryFinish('cancelled'), false);
});
