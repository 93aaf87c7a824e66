/**
 * Issue 17, class 6: a hung server no longer holds a run for 10 minutes. The idle timeout is a
 * bench-cell field (and `moebench bench --idle-timeout`), its default follows the SLO's expected
 * inter-token time, and the run ends in bounded time with the stalled requests counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchCellExecutor, benchConfig } from '../../../src/core/cells/bench';
import { benchSpecSchema } from '../../../src/core/spec/bench-spec';
import { headlessHost } from '../../../src/core/host';
import type { CellContext } from '../../../src/core/exec/cell';
import { Session } from '../../../src/core/exec/session';
import { defaultIdleTimeoutMs, MAX_IDLE_MS, MIN_DEFAULT_IDLE_MS } from '../../../src/core/load/idle-timeout';
import { DEFAULT_IDLE_TIMEOUT_MS } from '../../../src/core/load/http-client';
import { parse } from 'yaml';

test('the default idle timeout follows the SLO (300 inter-token times, 3 TTFTs), within 60 s .. 10 min', () => {
  assert.equal(defaultIdleTimeoutMs(undefined), MIN_DEFAULT_IDLE_MS);
  assert.equal(defaultIdleTimeoutMs({ tpotMs: 100 }), MIN_DEFAULT_IDLE_MS);
  assert.equal(defaultIdleTimeoutMs({ tpotMs: 1000 }), 300_000);
  assert.equal(defaultIdleTimeoutMs({ ttftMs: 50_000 }), 150_000);
  assert.equal(defaultIdleTimeoutMs({ tpotMs: 10_000 }), MAX_IDLE_MS);
  assert.ok(MIN_DEFAULT_IDLE_MS < DEFAULT_IDLE_TIMEOUT_MS, 'a cell without an SLO must no longer wait the old 10 minutes');
  const spec = benchSpecSchema.parse(parse('name: b\ntarget: http://127.0.0.1:1\nworkload: { dataset: random, numPrompts: 1 }\nidleTimeoutSec: 2.5'));
  const cfg = benchConfig(spec, { url: 'http://127.0.0.1:1', api: 'generate' }, { index: 0, label: 'x', requestRate: Infinity }, '/tmp');
  assert.equal(cfg.idleTimeoutMs, 2500);
});

test('a server that accepts and then never sends: the cell ends within seconds, every request counted as stalled', async () => {
  const open: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url !== '/generate') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    open.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'moebench-idle-'));
  const session = new Session({ notebookPath: join(dir, 'nb.moebench'), toolVersion: 'test' });
  const logs: string[] = [];
  const ctx: CellContext = { session, cell: { index: 0, name: 'hang', language: 'moebench-bench' }, emit: (e) => void (e.kind === 'log' && logs.push(e.text)), signal: new AbortController().signal, host: headlessHost({ settings: { 'bench.allowInvalid': true } }) };
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const t0 = Date.now();
  try {
    const cell = ['name: hang', `target: ${url}`, 'api: generate', 'workload: { dataset: random, numPrompts: 4, inputLen: 4, outputLen: 2, cacheBust: false }', 'warmup: 0', 'idleTimeoutSec: 1'].join('\n');
    await new BenchCellExecutor().execute(cell, ctx).catch(() => undefined);
    const tookMs = Date.now() - t0;
    assert.ok(tookMs < 20_000, `the run took ${tookMs} ms`);
    assert.match(logs.join(''), /0 completed, 4 failed/);
  } finally {
    for (const r of open) r.destroy();
    server.close();
    await session.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('while streams are silent the live progress says STALLED, with how long and when they will fail', async () => {
  const open: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url !== '/generate') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    open.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'moebench-idle-live-'));
  const session = new Session({ notebookPath: join(dir, 'nb.moebench'), toolVersion: 'test' });
  const details: string[] = [];
  const ctx: CellContext = {
    session,
    cell: { index: 0, name: 'hang', language: 'moebench-bench' },
    emit: (e) => {
      if (e.kind === 'doc' && e.id === 'hang-progress') for (const b of e.doc.blocks) if (b.type === 'progress' && b.detail) details.push(b.detail);
    },
    signal: new AbortController().signal,
    host: headlessHost({ settings: { 'bench.allowInvalid': true } }),
  };
  try {
    const cell = ['name: hang', `target: http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'api: generate', 'workload: { dataset: random, numPrompts: 2, inputLen: 4, outputLen: 2, cacheBust: false }', 'warmup: 0', 'idleTimeoutSec: 7'].join('\n');
    await new BenchCellExecutor().execute(cell, ctx).catch(() => undefined);
    assert.ok(details.some((d) => /STALLED: no data for [5-7] s from 2 streams \(they fail at 7 s\)/.test(d)), details.slice(-3).join('\n'));
  } finally {
    for (const r of open) r.destroy();
    server.close();
    await session.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
