import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, percentileKey, std, summarize } from '../../../src/core/metrics/stats';

const close = (a: number | null, b: number, eps = 1e-9): void => {
  assert.ok(a !== null && Math.abs(a - b) < eps, `${a} != ${b}`);
};

test('percentiles interpolate linearly like numpy.percentile', () => {
  // values checked against numpy 1.26: np.percentile([1,2,3,4], q)
  close(percentile([1, 2, 3, 4], 50), 2.5);
  close(percentile([1, 2, 3, 4], 25), 1.75);
  close(percentile([4, 1, 3, 2], 99), 3.97);
  close(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99), 9.91);
  close(percentile([7], 90), 7);
});

test('std is the population standard deviation (ddof=0)', () => {
  close(std([2, 4, 4, 4, 5, 5, 7, 9]), 2);
});

test('an empty list reports zeros when bench_serving would (np.mean(x or 0)) and nulls otherwise', () => {
  const zero = summarize([], [99], true);
  assert.equal(zero.mean, 0);
  assert.equal(zero.p['p99'], 0);
  assert.equal(zero.count, 0);
  const none = summarize([], [99]);
  assert.equal(none.mean, null);
  assert.equal(none.p['p99'], null);
});

test('percentile keys drop a trailing .0 but keep fractions', () => {
  assert.equal(percentileKey(99), 'p99');
  assert.equal(percentileKey(99.9), 'p99.9');
});
