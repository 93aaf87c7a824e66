import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseNotebook, serializeNotebook, FORMAT_VERSION } from '../../../src/core/notebook/format';
import { NotebookFormatError } from '../../../src/core/util/errors';
import { OUTPUT_MIME } from '../../../src/core/output/doc';

const sample = serializeNotebook({
  metadata: { author: 'x' },
  cells: [
    { kind: 'markdown', language: 'markdown', source: '# Title\n\ntext' },
    { kind: 'code', language: 'moebench-cluster', source: 'name: a\nkind: local\n', execution: { order: 1, success: true, startMs: 1, endMs: 2 } },
    {
      kind: 'code',
      language: 'moebench-bench',
      source: 'name: b',
      outputs: [{ items: [{ mime: OUTPUT_MIME, data: { blocks: [{ type: 'text', text: 'hi' }] } }], metadata: { id: 'x' } }],
    },
  ],
});

test('open then save without edits gives identical bytes', () => {
  assert.equal(serializeNotebook(parseNotebook(sample)), sample);
});

test('every sample notebook in notebooks/ round-trips byte for byte', () => {
  const dir = join(__dirname, '../../../notebooks');
  const files = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.moebench')).map((e) => e.name);
  assert.ok(files.length > 0, 'no sample notebooks found');
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    assert.equal(serializeNotebook(parseNotebook(text, f)), text, `${f} is not in canonical form`);
  }
});

test('the file diffs line by line: sorted keys, one source line per array element, trailing newline', () => {
  assert.ok(sample.endsWith('}\n'));
  const lines = sample.split('\n');
  assert.ok(lines.includes('    "name: a",'), 'each source line is its own JSON line');
  const topKeys = lines.filter((l) => /^ "[a-z]+":/.test(l)).map((l) => l.trim().split('"')[1]);
  assert.deepEqual(topKeys, ['cells', 'format', 'metadata', 'version']);
});

test('source text with trailing newline and CRLF survives exactly', () => {
  const nb = parseNotebook(serializeNotebook({ metadata: {}, cells: [{ kind: 'code', language: 'shellscript', source: 'a\r\nb\n' }] }));
  assert.equal(nb.cells[0].source, 'a\r\nb\n');
});

test('an empty file opens as a starter notebook with runnable cells', () => {
  const nb = parseNotebook('   \n');
  assert.ok(nb.cells.some((c) => c.language === 'moebench-cluster'));
});

test('a truncated file is an error with line and column, never an empty notebook', () => {
  const cut = sample.slice(0, Math.floor(sample.length / 2));
  assert.throws(
    () => parseNotebook(cut, 'x.moebench'),
    (err: unknown) => err instanceof NotebookFormatError && typeof err.where.line === 'number' && err.where.line > 1 && /line \d+, column \d+/.test(err.message),
  );
});

test('a newer format version is refused and says to update', () => {
  const newer = sample.replace(`"version": ${FORMAT_VERSION}`, `"version": ${FORMAT_VERSION + 1}`);
  assert.throws(() => parseNotebook(newer), (err: unknown) => err instanceof NotebookFormatError && /newer MoE Bench/.test(err.message) && /Update/.test(err.hint ?? ''));
});

test('a wrong type names the place (line of the bad field)', () => {
  const bad = sample.replace('"language": "moebench-bench"', '"language": 42');
  const line = bad.split('\n').findIndex((l) => l.includes('"language": 42')) + 1;
  assert.throws(() => parseNotebook(bad), (err: unknown) => err instanceof NotebookFormatError && err.where.line === line && /cells\.2\.language/.test(err.message));
});

test('a version-0 draft (no version key, sources as strings) is migrated', () => {
  const nb = parseNotebook(JSON.stringify({ metadata: {}, cells: [{ kind: 'code', language: 'shellscript', source: 'echo 1\necho 2' }] }));
  assert.equal(nb.cells[0].source, 'echo 1\necho 2');
  assert.match(serializeNotebook(nb), /"version": 1/);
});

test('streamed logs are not persisted; results are', () => {
  const text = serializeNotebook({
    metadata: {},
    cells: [
      {
        kind: 'code',
        language: 'shellscript',
        source: 'x',
        outputs: [
          { items: [{ mime: 'application/vnd.code.notebook.stdout', data: 'lots of log' }] },
          { items: [{ mime: OUTPUT_MIME, data: { blocks: [] } }], metadata: { id: 'summary' } },
          { items: [{ mime: OUTPUT_MIME, data: { blocks: [] } }], metadata: { id: 'progress', transient: true } },
        ],
      },
    ],
  });
  assert.doesNotMatch(text, /lots of log/);
  assert.doesNotMatch(text, /progress/);
  assert.match(text, /summary/);
});

test('comments and trailing commas are refused (the file is strict JSON)', () => {
  assert.throws(() => parseNotebook('{"cells": [], // x\n}'), NotebookFormatError);
});
