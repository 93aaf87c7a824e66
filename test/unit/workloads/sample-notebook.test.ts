import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNotebook } from '../../../src/core/notebook/format';
import { diagnoseCell } from '../../../src/core/lang/diagnose';

const FILE = join(__dirname, '../../../notebooks/samples/multi-turn-routing.moebench');

test('the multi-turn routing sample has no errors in any cell (as the editor would underline them), and a misspelt workload field would be', () => {
  const nb = parseNotebook(readFileSync(FILE, 'utf8'), 'multi-turn-routing.moebench');
  const cells = nb.cells.filter((c) => c.kind === 'code').map((c, i) => ({ id: String(i), language: c.language, text: c.source }));
  const problems: string[] = [];
  for (const c of cells) for (const d of diagnoseCell(c, cells)) if (d.severity === 'error') problems.push(`${c.language} cell ${c.id}, line ${d.line}: ${d.message}`);
  assert.deepEqual(problems, []);
  const bench = cells.find((c) => c.language === 'moebench-bench');
  assert.ok(bench);
  const broken = { ...bench, text: bench.text.replace('thinkTimeSec: 0.2', 'thinkTimeSec: 0.2\n  trace: t.jsonl') };
  const errors = diagnoseCell(broken, cells.map((c) => (c.id === bench.id ? broken : c))).filter((d) => d.severity === 'error');
  assert.ok(errors.some((d) => /a trace needs its format|a trace and multi-turn sessions/.test(d.message)), JSON.stringify(errors));
});
