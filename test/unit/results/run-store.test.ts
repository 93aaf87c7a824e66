import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, appendFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { appendTelemetry, clientHostInfo, listRuns, newRunId, readRequests, readRunMeta, RunWriter } from '../../../src/core/results';
import type { RequestRecord } from '../../../src/core/metrics/record';
import type { TelemetryRecord } from '../../../src/core/telemetry/schema';

const record = (seq: number): RequestRecord => ({
  seq,
  row: seq,
  scheduledMs: seq * 10,
  dispatchedMs: seq * 10 + 0.0001234,
  startMs: seq * 10 + 0.5,
  promptLen: 4,
  maxTokens: 2,
  ok: true,
  lastLineMs: 12.3456789,
  chunkMs: [1.23456789, 2],
  chunkChars: [1, 1],
  chunkTokens: [1, 2],
  outputTokens: 2,
  promptTokens: 5,
  cachedTokens: 0,
  text: ' ab',
});

async function tempStore(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'moebench-runs-'));
}

const meta = (id: string) => ({
  id,
  name: 'decode-2k',
  spec: { workload: { dataset: 'random' } },
  target: { url: 'http://127.0.0.1:30000', api: 'generate' as const, simulated: true },
  provenance: { toolVersion: '0.1.0', client: clientHostInfo(), seeds: { dataset: 1, arrivals: 1 } },
});

test('run ids sort by time and carry the cell name', () => {
  const id = newRunId('Decode 2K!', new Date(2025, 0, 2, 3, 4, 5));
  assert.match(id, /^20250102-030405-decode-2k-[0-9a-f]{4}$/);
});

test('a run directory holds meta.json, requests appended one per line, and a final status', async (t) => {
  const store = await tempStore();
  t.after(() => rm(store, { recursive: true, force: true }));
  const id = newRunId('decode-2k');
  const w = await RunWriter.create(store, meta(id));
  assert.equal((await readRunMeta(w.dir)).status, 'running');
  w.appendRequest(record(0));
  w.appendRequest(record(1));
  await w.close('completed');
  const recs = await readRequests(w.dir);
  assert.equal(recs.length, 2);
  // stream times are kept to the microsecond
  assert.deepEqual(recs[0].chunkMs, [1.235, 2]);
  assert.equal(recs[0].dispatchedMs, 0);
  const m = await readRunMeta(w.dir);
  assert.equal(m.status, 'completed');
  assert.ok(m.finishedAt);
  assert.equal(m.target.simulated, true);
  assert.deepEqual(await listRuns(store), [id]);
});

test('requests reach the file while the run is still going, and a torn last line is skipped', async (t) => {
  const store = await tempStore();
  t.after(() => rm(store, { recursive: true, force: true }));
  const w = await RunWriter.create(store, meta(newRunId('x')));
  w.appendRequest(record(0));
  // let the stream hand the write to the OS, as it does between requests of a live run
  await new Promise((r) => setTimeout(r, 50));
  const text = await readFile(path.join(w.dir, 'requests.jsonl'), 'utf8');
  assert.equal(text.split('\n').filter(Boolean).length, 1);
  await w.close('failed', 'boom');
  await appendFile(path.join(w.dir, 'requests.jsonl'), '{"seq": 1, "row"');
  assert.equal((await readRequests(w.dir)).length, 1);
  assert.equal((await readRunMeta(w.dir)).error, 'boom');
});

test('appendTelemetry writes whole lines even from concurrent collectors', async (t) => {
  const store = await tempStore();
  t.after(() => rm(store, { recursive: true, force: true }));
  const gpu = (node: string, i: number): TelemetryRecord => ({ kind: 'gpu', tsMs: i, node, gpus: [{ index: 0, utilGpuPct: i }] });
  await Promise.all([
    appendTelemetry(store, Array.from({ length: 50 }, (_, i) => gpu('a', i))),
    appendTelemetry(store, Array.from({ length: 50 }, (_, i) => gpu('b', i))),
    appendTelemetry(store, []),
  ]);
  const lines = (await readFile(path.join(store, 'telemetry.jsonl'), 'utf8')).trim().split('\n');
  assert.equal(lines.length, 100);
  const parsed = lines.map((l) => JSON.parse(l) as { node: string });
  assert.deepEqual([...new Set(parsed.slice(0, 50).map((p) => p.node))], ['a']);
});
