/**
 * Fuzzed YAML in every cell kind through diagnoseCell (the language server's core) and through
 * the built language server over stdio: truncated at every character, hostile strings spliced in
 * anywhere, wrong types at every key, deep nesting, alias bombs, tabs, duplicate keys, huge
 * values. Every text gets diagnostics (an array, each with a line), never an exception, and the
 * server process never dies.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isMap, parseDocument } from 'yaml';
import { diagnoseCell } from '../../src/core/lang/diagnose';
import type { NotebookCellText } from '../../src/core/lang/notebook-context';
import { LspClient } from '../integration/lsp/lsp-client';
import { hostileCorpus } from './corpus';
import { figure, FULL } from './helpers';
import { Rng } from '../../src/core/sim/rng';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'reliability');

/** the valid cells of the fixture notebooks, plus a monitor cell */
function baseCells(): NotebookCellText[] {
  const cells: NotebookCellText[] = [];
  for (const f of ['quickstart.moebench', 'pd-ep-96gpu.moebench']) {
    const nb = JSON.parse(readFileSync(path.join(FIXTURES, f), 'utf8')) as { cells: { kind: string; language: string; source: string[] }[] };
    for (const c of nb.cells) if (c.kind === 'code' && c.language.startsWith('moebench-')) cells.push({ language: c.language, text: c.source.join('\n'), id: `${f}#${cells.length}` });
  }
  cells.push({ language: 'moebench-monitor', text: 'name: watch\ntarget: ds-pd\ninterval: 500\n', id: 'monitor' });
  return cells;
}

/** the project's seeded generator (mulberry32, as the emulator uses): same seed, same corpus */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** fuzzed variants of one cell's text */
function* variants(text: string, corpus: string[], next: () => number): Generator<string> {
  // truncated at every character
  for (let n = 0; n <= text.length; n++) yield text.slice(0, n);
  // hostile strings spliced in at random places
  for (let k = 0; k < (FULL ? 3000 : 400); k++) {
    const at = Math.floor(next() * (text.length + 1));
    yield text.slice(0, at) + corpus[Math.floor(next() * corpus.length)] + text.slice(at);
  }
  // every top-level and second-level value replaced by every wrong type
  const doc = parseDocument(text);
  const wrongs = ['null', '0', '-1', '1e999', '"x"', '[]', '{}', '[1, [2, [3]]]', '{a: {b: {c: 1}}}', 'true', '.nan', '*undefinedalias', '!!binary aGk=', '!!timestamp 2001-12-14'];
  if (isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      const key = String((pair.key as { value?: unknown }).value);
      for (const w of wrongs) yield text.replace(new RegExp(`^${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:.*$`, 'm'), () => `${key}: ${w}`);
    }
  }
  // structure: nesting, alias bombs, tabs, duplicate keys, huge values, odd documents
  const depth = FULL ? 100_000 : 20_000;
  yield `${text}\nextra: ${'['.repeat(depth)}${']'.repeat(depth)}`;
  yield `${text}\nextra: ${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`;
  yield `${'- '.repeat(2000)}x`;
  yield `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n${text}`;
  yield text.replace(/^( +)/gm, '\t');
  yield `${text}\n${text}`;
  yield `${text}\nname: ${'y'.repeat(FULL ? 5_000_000 : 1_000_000)}`;
  yield `---\n${text}\n---\n${text}`;
  yield `%YAML 9.9\n---\n${text}`;
  yield `!!python/object:os.system\n${text}`;
  yield `\ufeff${text}`;
  yield text.replace(/\n/g, '\r\n');
  yield '\0'.repeat(100);
}

describe('fuzzed YAML in every cell kind', () => {
  const corpus = hostileCorpus({ canary: '/nonexistent/canary', size: 10_000, maxLength: 20_000 });
  const cells = baseCells();
  let lsp: LspClient;
  before(async () => {
    lsp = new LspClient();
    await lsp.initialize();
  });
  after(async () => lsp.stop());

  test('diagnoseCell: a diagnostic for every fuzzed text, never an exception', () => {
    const next = rng(3);
    let texts = 0;
    let withDiagnostics = 0;
    const kinds = new Set<string>();
    for (const cell of cells) {
      kinds.add(cell.language);
      for (const text of variants(cell.text, corpus, next)) {
        texts++;
        const fuzzed = { ...cell, text };
        const notebook = cells.map((c) => (c.id === cell.id ? fuzzed : c));
        let diags: ReturnType<typeof diagnoseCell>;
        try {
          diags = diagnoseCell(fuzzed, notebook);
        } catch (err) {
          assert.fail(`${cell.language}: diagnoseCell threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)} for ${JSON.stringify(text.slice(0, 200))}`);
        }
        assert.ok(Array.isArray(diags));
        for (const d of diags) assert.ok(Number.isInteger(d.line) && d.line >= 1 && typeof d.message === 'string', `${cell.language}: ${JSON.stringify(d)}`);
        if (diags.length) withDiagnostics++;
      }
    }
    figure({ 'yaml-fuzz-texts': texts, 'yaml-fuzz-cell-kinds': kinds.size, 'yaml-fuzz-with-diagnostics': withDiagnostics, 'yaml-fuzz-exceptions': 0 });
  });

  test('the language server process answers every fuzzed text and never dies', async () => {
    const next = rng(5);
    await lsp.openNotebook(cells.map((c) => ({ language: c.language, text: c.text })));
    let sent = 0;
    for (let i = 0; i < cells.length; i++) {
      const all = [...variants(cells[i].text, corpus, next)];
      // CI: an even spread of each cell's variants (truncations, splices, types, structure)
      const chosen = FULL ? all : all.filter((_, k) => k % Math.ceil(all.length / 8) === 0 || k >= all.length - 15);
      for (const text of chosen) {
        await lsp.changeCell(i, text);
        const diags = await lsp.diagnosticsFor(i, 60_000);
        assert.ok(Array.isArray(diags));
        sent++;
      }
      await lsp.changeCell(i, cells[i].text);
      await lsp.diagnosticsFor(i, 60_000);
    }
    figure({ 'lsp-fuzz-texts': sent, 'lsp-crashes': 0 });
  });
});
