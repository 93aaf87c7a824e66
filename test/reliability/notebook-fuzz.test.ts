/**
 * Fuzzed .moebench files: truncated at every byte, every value replaced by every wrong type,
 * huge, deeply nested, from a newer version, invalid UTF-8, random byte flips. parseNotebook
 * either returns the notebook the file holds or throws a NotebookFormatError naming the line and
 * column; it never returns an empty notebook for bad input and never throws anything else. The
 * CLI never overwrites its input.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parseNotebook, parseNotebookBytes } from '../../src/core/notebook/format';
import { NotebookFormatError } from '../../src/core/util/errors';
import { figure, FULL } from './helpers';
import { Rng } from '../../src/core/sim/rng';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'reliability');
const ROOT = path.join(__dirname, '..', '..');
const originals = ['quickstart.moebench', 'pd-ep-96gpu.moebench'].map((f) => readFileSync(path.join(FIXTURES, f)));
let tried = 0;
let refused = 0;

/** the project's seeded generator (mulberry32, as the emulator uses): same seed, same corpus */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** parse; a refusal must be a NotebookFormatError with a sane line and column */
function attempt(bytes: Buffer, label: string): ReturnType<typeof parseNotebook> | NotebookFormatError {
  tried++;
  try {
    return parseNotebookBytes(bytes, 'fuzz.moebench');
  } catch (err) {
    assert.ok(err instanceof NotebookFormatError, `${label}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    const lines = bytes.toString('utf8').split('\n').length;
    assert.ok(Number.isInteger(err.where.line) && (err.where.line ?? 0) >= 1 && (err.where.line ?? 0) <= lines, `${label}: line ${err.where.line} of ${lines}`);
    assert.ok(Number.isInteger(err.where.column) && (err.where.column ?? 0) >= 1, `${label}: column ${err.where.column}`);
    refused++;
    return err;
  }
}

function cellsOf(json: unknown): number {
  return Array.isArray((json as { cells?: unknown }).cells) ? ((json as { cells: unknown[] }).cells.length) : -1;
}

/** every JSON path of a value */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

function setAt(root: unknown, p: (string | number)[], value: unknown): unknown {
  if (p.length === 0) return value;
  const copy: unknown = structuredClone(root);
  let node = copy as Record<string | number, unknown>;
  for (const k of p.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  node[p[p.length - 1]] = value;
  return copy;
}

describe('fuzzed notebook files', () => {
  test('truncated at every byte: refused with line and column (an empty file is a new notebook)', () => {
    for (const original of originals) {
      const whole = original.toString('utf8').trimEnd();
      // every byte: a notebook is a few KB
      for (let n = 0; n < original.length; n++) {
        const cut = original.subarray(0, n);
        const text = cut.toString('utf8');
        const r = attempt(cut, `first ${n} bytes`);
        if (r instanceof NotebookFormatError) continue;
        // only an empty file (new notebook) or the whole document may parse
        assert.ok(text.trim() === '' || text.trimEnd() === whole, `a notebook truncated to ${n} bytes was accepted`);
      }
    }
  });

  test('every value replaced by every wrong type: refused with line and column, or the same cells', () => {
    for (const original of originals) {
      const json: unknown = JSON.parse(original.toString('utf8'));
      for (const p of paths(json)) {
        for (const wrong of [null, 0, -1.5, 'x', '', true, [], {}, [1], { kind: 'code' }]) {
          const mutated = setAt(json, p, wrong);
          const r = attempt(Buffer.from(JSON.stringify(mutated, null, 1)), `${p.join('.')} = ${JSON.stringify(wrong)}`);
          if (!(r instanceof NotebookFormatError)) assert.equal(r.cells.length, cellsOf(mutated), `${p.join('.')} = ${JSON.stringify(wrong)} lost cells`);
        }
      }
    }
  });

  test('newer versions, deep nesting, huge files and invalid UTF-8 are refused with their place', () => {
    const base: unknown = JSON.parse(originals[0].toString('utf8'));
    for (const version of [2, 3, 99, 1e9]) {
      const r = attempt(Buffer.from(JSON.stringify(setAt(base, ['version'], version), null, 1)), `version ${version}`);
      assert.ok(r instanceof NotebookFormatError && /newer MoE Bench/.test(r.message), `version ${version}`);
    }
    for (const depth of [300, 10_000, 200_000]) {
      for (const [open, close] of [['{"a":', '}'], ['[', ']']]) {
        const text = `{"format":"moebench-notebook","version":1,"cells":[],"metadata":{"deep":${open.repeat(depth)}1${close.repeat(depth)}}}`;
        assert.ok(attempt(Buffer.from(text), `nesting ${depth}`) instanceof NotebookFormatError);
        // the same nesting, cut short
        assert.ok(attempt(Buffer.from(text.slice(0, text.length / 2)), `truncated nesting ${depth}`) instanceof NotebookFormatError);
      }
    }
    // huge: a 200,000-line cell parses whole; the same file cut in the middle is refused
    const sizeMiB = FULL ? 64 : 16;
    const lines = Array.from({ length: Math.round((sizeMiB * 1024 * 1024) / 80) }, (_, i) => `# line ${i} ${'x'.repeat(60)}`);
    const huge = Buffer.from(JSON.stringify({ cells: [{ kind: 'code', language: 'shellscript', source: lines }], format: 'moebench-notebook', metadata: {}, version: 1 }, null, 1));
    const t0 = Date.now();
    const ok = attempt(huge, 'huge');
    const hugeMs = Date.now() - t0;
    assert.ok(!(ok instanceof NotebookFormatError) && ok.cells[0].source.split('\n').length === lines.length);
    assert.ok(attempt(huge.subarray(0, huge.length - 1000), 'huge truncated') instanceof NotebookFormatError);
    // invalid UTF-8 at many places
    const next = rng(7);
    const bad = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x80]];
    for (let k = 0; k < (FULL ? 5000 : 500); k++) {
      const at = Math.floor(next() * originals[0].length);
      const bytes = Buffer.concat([originals[0].subarray(0, at), Buffer.from(bad[k % bad.length]), originals[0].subarray(at)]);
      const r = attempt(bytes, `invalid UTF-8 at ${at}`);
      assert.ok(r instanceof NotebookFormatError && /UTF-8|not valid|ends too early/.test(r.message), `invalid UTF-8 at byte ${at} was accepted`);
    }
    figure({ 'notebook-huge-MiB': Math.round(huge.length / 1024 / 1024), 'notebook-huge-parse-ms': hugeMs });
  });

  test('random byte flips: a typed refusal or a notebook with all its cells, never a crash', () => {
    const next = rng(11);
    for (let k = 0; k < (FULL ? 50_000 : 5_000); k++) {
      const original = originals[k % originals.length];
      const bytes = Buffer.from(original);
      const flips = 1 + Math.floor(next() * 4);
      for (let f = 0; f < flips; f++) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      const r = attempt(bytes, `flips #${k}`);
      if (!(r instanceof NotebookFormatError)) {
        let json: unknown;
        try {
          json = JSON.parse(bytes.toString('utf8'));
        } catch {
          assert.fail(`flips #${k}: accepted a file that is not JSON`);
        }
        assert.equal(r.cells.length, cellsOf(json), `flips #${k} lost cells`);
      }
    }
    figure({ 'notebook-fuzz-files': tried, 'notebook-refused-with-place': refused });
  });

  test('moebench run never overwrites its input, refuses a bad one with its place, and writes no output for it', () => {
    const cli = path.join(ROOT, 'out', 'cli.js');
    assert.ok(existsSync(cli), 'build first (npm run build)');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'moebench-nbfuzz-'));
    const cases: [string, Buffer][] = [
      ['truncated', originals[0].subarray(0, 1000)],
      ['invalid-utf8', Buffer.concat([originals[0].subarray(0, 500), Buffer.from([0xff, 0xfe]), originals[0].subarray(500)])],
      ['newer', Buffer.from(JSON.stringify({ ...(JSON.parse(originals[0].toString('utf8')) as object), version: 7 }))],
      ['deep', Buffer.from(`{"cells":[],"format":"moebench-notebook","metadata":${'['.repeat(100_000)}`)],
      ['wrong-type', Buffer.from(JSON.stringify({ ...(JSON.parse(originals[0].toString('utf8')) as object), cells: 'none' }))],
    ];
    const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
    for (const [name, bytes] of cases) {
      const input = path.join(dir, `${name}.moebench`);
      writeFileSync(input, bytes);
      const before = sha(input);
      const out = path.join(dir, `${name}.out.moebench`);
      const r = spawnSync(process.execPath, [cli, 'run', input, '-o', out], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 2, `${name}: exit ${r.status} ${r.stderr}`);
      assert.match(r.stderr, /line \d+, column \d+/, `${name}: ${r.stderr}`);
      assert.equal(sha(input), before, `${name}: input changed`);
      assert.equal(existsSync(out), false, `${name}: an output was written`);
      // the output path given as the input itself, or as a link to it
      const same = spawnSync(process.execPath, [cli, 'run', input, '-o', input], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(same.status, 2);
      assert.equal(sha(input), before, `${name}: -o input changed the input`);
    }
    // a good notebook whose -o is a symlink to the input: the link is replaced, the input is not touched
    const good = path.join(dir, 'good.moebench');
    writeFileSync(good, JSON.stringify({ cells: [{ kind: 'markdown', language: 'markdown', source: ['# hi'] }], format: 'moebench-notebook', metadata: {}, version: 1 }, null, 1) + '\n');
    const before = sha(good);
    const link = path.join(dir, 'link.moebench');
    symlinkSync(good, link);
    const r = spawnSync(process.execPath, [cli, 'run', good, '-o', link], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sha(good), before, 'the input behind the -o symlink changed');
    figure({ 'cli-bad-notebooks': cases.length, 'cli-inputs-overwritten': 0 });
  });
});
