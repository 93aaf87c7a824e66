import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyColumnsFirst } from '../../../src/core/cells/bench-output';
import { summaryTable } from '../../../src/core/metrics/summary-table';

test('the result table leads with throughput, TTFT and TPOT; the other columns follow in their order', () => {
  const columns = ['Step', 'Backend', 'Traffic request rate', 'Successful requests', 'Failed requests', 'Request throughput (req/s)', 'Output token throughput (tok/s)', 'Mean TTFT (ms)', 'P99 TTFT (ms)', 'Mean TPOT (ms)', 'P99 TPOT (ms)', 'Median ITL (ms)', 'Max ITL (ms)'];
  const row = columns.map((c, i) => (i === 0 ? 'c=8' : i));
  const out = keyColumnsFirst(columns, [row], ['Step', 'Request throughput (req/s)', 'Output token throughput (tok/s)', 'Mean TTFT (ms)', 'Missing column']);
  assert.deepEqual(out.columns.slice(0, out.key), ['Step', 'Request throughput (req/s)', 'Output token throughput (tok/s)', 'Mean TTFT (ms)']);
  assert.deepEqual(out.columns.slice(out.key, out.key + 2), ['Backend', 'Traffic request rate']);
  assert.equal(out.columns.length, columns.length);
  // each cell moves with its column
  out.columns.forEach((c, i) => assert.equal(out.rows[0][i], row[columns.indexOf(c)]));
});

test("every key column name exists in bench_serving's table (a renamed column would silently drop out)", () => {
  const { columns } = summaryTable([]);
  for (const k of ['Step', 'Successful requests', 'Failed requests', 'Request throughput (req/s)', 'Output token throughput (tok/s)', 'Mean TTFT (ms)', 'Mean TPOT (ms)', 'Median ITL (ms)']) assert.ok(columns.includes(k), k);
});
