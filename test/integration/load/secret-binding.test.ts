/**
 * Issue 17, class 7: a secret goes only where the user approved it, and every value that came
 * from a secret is redacted whatever the header's name (User-Agent included).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchCellExecutor } from '../../../src/core/cells/bench';
import { headlessHost, type HostServices } from '../../../src/core/host';
import type { CellContext } from '../../../src/core/exec/cell';
import { Session } from '../../../src/core/exec/session';
import { SpecValidationError } from '../../../src/core/util/errors';
import { runNotebook } from '../../../src/core/exec/notebook-runner';
import { defaultExecutors } from '../../../src/core/cells';
import { serializeNotebook } from '../../../src/core/notebook/format';

const SECRET = 'sk-test-9f3c1e77-canary';

async function server(): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const s = http.createServer((req, res) => {
    seen.push(JSON.stringify(req.headers));
    req.resume();
    req.on('end', () => {
      if (req.url === '/generate') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify({ text: 'ab', output_ids: [1, 2], meta_info: { prompt_tokens: 4, completion_tokens: 2, finish_reason: { type: 'length', length: 2 } } })}\n\n`);
        res.end('data: [DONE]\n\n');
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen, close: () => new Promise((r) => s.close(() => r())) };
}

function host(consents: string[], prompts: string[] = []): HostServices {
  const base = headlessHost({ settings: { consents } });
  return { ...base, getSecret: async (key, prompt) => (prompts.push(prompt ?? ''), key === 'tok' ? SECRET : undefined) };
}

function cell(target: string, headers: string): string {
  return ['name: keyed', `target: ${target}`, 'api: generate', `headers: ${headers}`, 'workload: { dataset: random, numPrompts: 3, inputLen: 4, outputLen: 2, cacheBust: false }', 'warmup: 0'].join('\n');
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));
}

test('a secret is not sent to a destination the user did not approve; approval for one origin does not cover another', async () => {
  const a = await server();
  const dir = mkdtempSync(join(tmpdir(), 'moebench-secret-'));
  const session = new Session({ notebookPath: join(dir, 'nb.moebench'), toolVersion: 'test' });
  const ctx = (h: HostServices): CellContext => ({ session, cell: { index: 0, name: 'keyed', language: 'moebench-bench' }, emit: () => undefined, signal: new AbortController().signal, host: h });
  try {
    for (const consents of [[], ['secret:tok@http://127.0.0.1:1'], [`secret:other@${a.url}`], ['secret:tok@deployment x']]) {
      await assert.rejects(new BenchCellExecutor().execute(cell(a.url, '{ Authorization: "Bearer ${secret:tok}" }'), ctx(host(consents))), (e: unknown) => e instanceof SpecValidationError && e.where.field === 'headers.Authorization' && /not approved/.test(e.message));
    }
    assert.deepEqual(a.seen, [], 'a request went out');
    assert.ok(!a.seen.join('').includes(SECRET));
  } finally {
    await session.dispose();
    await a.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an approved secret is sent, the prompt names the destination, and the value is redacted everywhere, User-Agent included', async () => {
  const a = await server();
  const dir = mkdtempSync(join(tmpdir(), 'moebench-secret-'));
  const nbPath = join(dir, 'nb.moebench');
  const session = new Session({ notebookPath: nbPath, toolVersion: 'test' });
  const prompts: string[] = [];
  try {
    const nb = { metadata: {}, cells: [{ kind: 'code' as const, language: 'moebench-bench', source: cell(a.url, '{ User-Agent: "${secret:tok}", X-Note: "k=${secret:tok}" }') }] };
    const outcomes = await runNotebook(nb, { session, host: host([`secret:tok@${a.url}`], prompts), executors: defaultExecutors(), signal: new AbortController().signal });
    assert.equal(outcomes[0].state, 'succeeded', String(outcomes[0].error));
    assert.ok(a.seen.some((h) => h.includes(SECRET)), 'the approved secret was not sent');
    assert.ok(prompts.every((p) => p.includes(a.url)), `prompt does not say where: ${prompts.join(' | ')}`);
    const written = [...filesUnder(dir).map((f) => readFileSync(f, 'utf8')), serializeNotebook(nb)];
    assert.ok(written.length > 1);
    for (const w of written) assert.ok(!w.includes(SECRET), 'a secret value reached a file or output');
  } finally {
    await session.dispose();
    await a.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
