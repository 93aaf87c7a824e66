import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { LocalCluster } from '../../../src/core/launch/local/local-cluster';
import { LogRelay } from '../../../src/core/deploy/log-relay';
import type { CellEvent } from '../../../src/core/exec/events';
import { startRemoteProcess } from '../../../src/core/launch/shell';

const base = mkdtempSync(path.join(os.tmpdir(), 'moebench-relay-'));
after(() => rmSync(base, { recursive: true, force: true }));
const cluster = new LocalCluster('here', 0);

test('log lines of a supervised process reach the cell prefixed with node and rank, batched, and the end is reported', async () => {
  const events: CellEvent[] = [];
  let ended = '';
  const relay = new LogRelay(cluster, (e) => events.push(e), { flushIntervalMs: 100, onEnded: (id) => (ended = id) });
  const state = await startRemoteProcess(cluster, 'local', { deploymentId: 'relay', name: 'p0', argv: ['bash', '-c', 'for i in $(seq 1 200); do echo "line $i"; done; sleep 0.3; echo last'], baseDir: base });
  relay.follow('prefill-0/rank-0', state);
  const t0 = Date.now();
  while (!ended && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
  assert.equal(ended, 'prefill-0/rank-0');
  await relay.dispose();
  const logs = events.filter((e): e is Extract<CellEvent, { kind: 'log' }> => e.kind === 'log');
  const text = logs.map((e) => e.text).join('');
  const lines = text.split('\n').filter(Boolean);
  assert.equal(lines.length, 201);
  assert.equal(lines[0], '[local prefill-0/rank-0] line 1');
  assert.equal(lines[200], '[local prefill-0/rank-0] last');
  // 201 lines, a handful of events
  assert.ok(logs.length < 20, `${logs.length} events for 201 lines`);
  assert.ok(logs.every((e) => e.source === 'local prefill-0/rank-0'));
  assert.deepEqual(relay.recentLines('prefill-0/rank-0', 2), ['line 200', 'last']);
});
