/**
 * Issue 17, class 5: a bench cell whose requests failed must fail the cell, and `moebench run`
 * must exit 1 (as `moebench bench` does), unless --allow-invalid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../../src/cli/commands/run';
import { serializeNotebook } from '../../../src/core/notebook/format';

async function quiet<T>(fn: () => Promise<T>): Promise<{ value: T; err: string }> {
  let err = '';
  const e = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
  try {
    return { value: await fn(), err };
  } finally {
    process.stderr.write = e;
  }
}

test('moebench run exits 1 when a bench cell\'s requests failed; --allow-invalid keeps going', async () => {
  // a server that answers the first third of the requests and then fails, as one killed mid-run
  let served = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (served++ % 3 !== 0) {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"engine died"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ text: 'a', output_ids: [1], meta_info: { prompt_tokens: 4, completion_tokens: 1, finish_reason: null } })}\n\n`);
      res.write(`data: ${JSON.stringify({ text: 'ab', output_ids: [1, 2], meta_info: { prompt_tokens: 4, completion_tokens: 2, finish_reason: { type: 'length', length: 2 } } })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'moebench-invalid-'));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const file = join(dir, 'n.moebench');
    const bench = ['name: failing', `target: ${url}`, 'api: generate', 'workload: { dataset: random, numPrompts: 6, inputLen: 4, outputLen: 2, cacheBust: false }', 'warmup: 0'].join('\n');
    writeFileSync(file, serializeNotebook({ metadata: {}, cells: [{ kind: 'code', language: 'moebench-bench', source: bench }] }));
    const strict = await quiet(() => runCommand([file, '-o', join(dir, 'out.moebench')]));
    assert.equal(strict.value, 1, strict.err);
    assert.match(strict.err, /failing.*not a valid result: 66\.7% errors/, strict.err);
    const allowed = await quiet(() => runCommand([file, '--allow-invalid']));
    assert.equal(allowed.value, 0, allowed.err);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
