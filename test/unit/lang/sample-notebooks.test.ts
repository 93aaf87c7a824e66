import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseNotebook } from '../../../src/core/notebook/format';
import { diagnoseCell } from '../../../src/core/lang/diagnose';

const DIR = join(__dirname, '../../../notebooks');

for (const file of readdirSync(DIR, { withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.moebench')).map((e) => e.name)) {
  test(`sample notebook ${file} has no errors in any cell (as the editor would underline them)`, () => {
    const nb = parseNotebook(readFileSync(join(DIR, file), 'utf8'), file);
    const cells = nb.cells.filter((c) => c.kind === 'code').map((c, i) => ({ id: String(i), language: c.language, text: c.source }));
    const problems: string[] = [];
    for (const c of cells) {
      for (const d of diagnoseCell(c, cells)) if (d.severity === 'error') problems.push(`${c.language} cell ${c.id}, line ${d.line}: ${d.message}`);
    }
    assert.deepEqual(problems, []);
  });
}
