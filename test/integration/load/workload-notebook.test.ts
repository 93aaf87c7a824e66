/**
 * The multi-turn routing sample, run headless as a user would (`moebench run`): on the emulator,
 * cache-aware routing keeps each chat on the replica holding its history, round-robin does not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../../src/cli/commands/run';

async function quiet<T>(fn: () => Promise<T>): Promise<{ value: T; err: string }> {
  let err = '';
  const e = process.stderr.write.bind(process.stderr);
  const o = process.stdout.write.bind(process.stdout);
  process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
  process.stdout.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stdout.write;
  try {
    return { value: await fn(), err };
  } finally {
    process.stderr.write = e;
    process.stdout.write = o;
  }
}

/** every table block in the output notebook with this title */
function tables(doc: unknown, title: string): { rows: (string | number | null)[][]; columns: string[] }[] {
  const out: { rows: (string | number | null)[][]; columns: string[] }[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      if (o['type'] === 'table' && typeof o['title'] === 'string' && o['title'].startsWith(title)) out.push(o as unknown as { rows: (string | number | null)[][]; columns: string[] });
      Object.values(o).forEach(walk);
    }
  };
  walk(doc);
  return out;
}

test('the multi-turn routing sample: cache-aware routing reaches the workload\'s reuse, round-robin loses much of it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-routing-'));
  try {
    const file = join(dir, 'multi-turn-routing.moebench');
    copyFileSync(join(__dirname, '../../../notebooks/samples/multi-turn-routing.moebench'), file);
    const run = await quiet(() => runCommand([file, '-o', join(dir, 'out.moebench')]));
    assert.equal(run.value, 0, run.err.slice(-3000));
    const out = JSON.parse(readFileSync(join(dir, 'out.moebench'), 'utf8')) as unknown;
    const reuse = tables(out, 'Workload prefix reuse');
    assert.equal(reuse.length, 2, 'one workload table per bench cell');
    const col = (t: (typeof reuse)[number], name: string): number => Number(t.rows[0][t.columns.indexOf(name)]);
    const [aware, rr] = reuse;
    const expected = col(aware, 'expected hit rate');
    assert.equal(col(rr, 'expected hit rate'), expected, 'same workload, same expected reuse');
    assert.ok(Math.abs(col(aware, 'measured (responses)') - expected) < 0.05, `cache-aware measured ${col(aware, 'measured (responses)')} vs expected ${expected}`);
    assert.ok(col(rr, 'measured (responses)') < col(aware, 'measured (responses)') - 0.1, `round-robin ${col(rr, 'measured (responses)')} vs cache-aware ${col(aware, 'measured (responses)')}`);
    // the servers' own counters say the same
    assert.ok(col(rr, 'server counters') < col(aware, 'server counters') - 0.1);
    // and the turns after the first find their history under cache-aware routing
    const byTurn = tables(out, 'By turn index')[0];
    const hit = byTurn.columns.indexOf('cache hit rate');
    assert.ok(byTurn.rows.slice(1).every((r) => Number(r[hit]) > 0.85), JSON.stringify(byTurn.rows));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
