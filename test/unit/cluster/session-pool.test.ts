import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isChannelOpenFailure, SessionPool } from '../../../src/core/launch/ssh/session-pool';
import { CancelledError } from '../../../src/core/util/errors';

describe('SessionPool (MaxSessions per connection)', () => {
  it('queues beyond the limit and grants in order as slots free', async () => {
    const pool = new SessionPool(2);
    const a = await pool.acquire();
    const b = await pool.acquire();
    const order: string[] = [];
    const c = pool.acquire().then((r) => (order.push('c'), r));
    const d = pool.acquire().then((r) => (order.push('d'), r));
    assert.deepEqual([pool.inUse, pool.queued], [2, 2]);
    a();
    a(); // releasing twice frees one slot only
    const rc = await c;
    assert.deepEqual([pool.inUse, pool.queued, order], [2, 1, ['c']]);
    b();
    rc();
    (await d)();
    assert.deepEqual([pool.inUse, pool.queued, order], [0, 0, ['c', 'd']]);
  });

  it('a priority request (a cancel’s kill) goes before the queue', async () => {
    const pool = new SessionPool(1);
    const first = await pool.acquire();
    const order: string[] = [];
    const normal = pool.acquire().then((r) => (order.push('normal'), r()));
    const urgent = pool.acquire(undefined, true).then((r) => (order.push('urgent'), r()));
    first();
    await Promise.all([normal, urgent]);
    assert.deepEqual(order, ['urgent', 'normal']);
  });

  it('an aborted waiter leaves the queue', async () => {
    const pool = new SessionPool(1);
    const held = await pool.acquire();
    const ac = new AbortController();
    const waiting = pool.acquire(ac.signal);
    ac.abort();
    await assert.rejects(waiting, CancelledError);
    assert.equal(pool.queued, 0);
    held();
    assert.equal(pool.inUse, 0);
    await assert.rejects(pool.acquire(ac.signal), CancelledError);
  });

  it('learns a lower server limit from a refusal, but not from a refusal with nothing open', async () => {
    const pool = new SessionPool(10);
    assert.equal(pool.learnLimit(0), false);
    assert.equal(pool.limit, 10);
    assert.equal(pool.learnLimit(4), true);
    assert.equal(pool.limit, 4);
    const held = await Promise.all([1, 2, 3, 4].map(() => pool.acquire()));
    let fifth = false;
    const p = pool.acquire().then((r) => ((fifth = true), r));
    await new Promise((r) => setImmediate(r));
    assert.equal(fifth, false);
    held[0]();
    (await p)();
    held.slice(1).forEach((r) => r());
  });

  it('recognises ssh2’s channel-open failure', () => {
    assert.equal(isChannelOpenFailure(new Error('(SSH) Channel open failure: open failed')), true);
    assert.equal(isChannelOpenFailure(new Error('Not connected')), false);
  });
});
