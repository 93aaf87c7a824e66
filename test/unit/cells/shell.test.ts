import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Session } from '../../../src/core/exec/session';
import { runCell } from '../../../src/core/exec/run-cell';
import { defaultExecutors } from '../../../src/core/cells';
import { headlessHost } from '../../../src/core/host';
import type { CellEvent } from '../../../src/core/exec/events';
import { CommandFailedError, SpecValidationError, CancelledError } from '../../../src/core/util/errors';

function harness() {
  // a notebook folder of its own: nothing this session writes lands in a /tmp path shared by other runs
  const session = new Session({ notebookPath: path.join(mkdtempSync(path.join(os.tmpdir(), 'moebench-shell-')), 'x.moebench'), toolVersion: 'test' });
  const events: CellEvent[] = [];
  const abort = new AbortController();
  const run = (language: string, source: string, index = 0) =>
    runCell({ index, kind: 'code', language, source }, { session, host: headlessHost(), executors: defaultExecutors(), emit: (e) => events.push(e), signal: abort.signal });
  const logs = () => events.filter((e): e is Extract<CellEvent, { kind: 'log' }> => e.kind === 'log').map((e) => e.text).join('');
  return { session, events, abort, run, logs };
}

function processesWithMarker(marker: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(marker) && !l.includes('ps -eo'));
}

test('a shell cell streams stdout and stderr from the local cluster', async () => {
  const h = harness();
  await h.run('moebench-cluster', 'name: here\nkind: local');
  await h.run('shellscript', 'echo out-line\necho err-line >&2');
  assert.match(h.logs(), /out-line/);
  const stderr = h.events.filter((e) => e.kind === 'log' && e.stream === 'stderr').map((e) => (e as { text: string }).text).join('');
  assert.match(stderr, /err-line/);
  await h.session.dispose();
});

test('a non-zero exit fails the cell, naming the node and status', async () => {
  const h = harness();
  await assert.rejects(h.run('shellscript', '# name: broken\nexit 3'), (err: unknown) => err instanceof CommandFailedError && /exit status 3/.test(err.message) && err.where.cell === 'broken');
  await h.session.dispose();
});

test('cancelling a running sleep kills the whole process group within 2 s', async () => {
  const h = harness();
  const marker = `moebench-sleep-marker-${process.pid}`;
  // a child in the background and a grandchild: both must die with the group
  const p = h.run('shellscript', `bash -c 'exec -a ${marker} sleep 1000' &\nexec -a ${marker}-fg sleep 1000`);
  for (let i = 0; i < 50 && processesWithMarker(marker).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(processesWithMarker(marker).length, 2, 'both sleeps started');
  const t0 = Date.now();
  h.abort.abort();
  await assert.rejects(p, CancelledError);
  const tookMs = Date.now() - t0;
  for (let i = 0; i < 20 && processesWithMarker(marker).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(processesWithMarker(marker), [], 'no process left behind');
  assert.ok(tookMs < 2000, `cancel took ${tookMs} ms`);
  await h.session.dispose();
});

test('a bad "# nodes:" header names the line', async () => {
  const h = harness();
  await assert.rejects(h.run('shellscript', '# name: x\n# nodes: {a: 1}\necho'), (err: unknown) => err instanceof SpecValidationError && err.where.line === 2);
  await h.session.dispose();
});

test('a typo in a cluster cell is reported at its YAML line', async () => {
  const h = harness();
  await assert.rejects(h.run('moebench-cluster', 'name: c\nkind: local\ngpusPerNod: 8'), (err: unknown) => err instanceof SpecValidationError && err.where.line === 3 && /gpusPerNod/.test(err.message));
  await h.session.dispose();
});

test('an unknown node in "# nodes:" is refused before anything runs', async () => {
  const h = harness();
  await h.run('moebench-cluster', 'name: c\nkind: local');
  await assert.rejects(h.run('shellscript', '# nodes: [gpu-009]\ntouch /tmp/should-not-exist-moebench'), /no node "gpu-009"/);
  await h.session.dispose();
});
