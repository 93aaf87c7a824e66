import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATASET_PRESETS, LOAD_PRESETS, quickBenchNotebook } from '../../../src/core/notebook/quick-bench';
import { diagnoseCell } from '../../../src/core/lang/diagnose';

test('every Quick Benchmark choice makes a notebook whose cells have no errors', () => {
  for (const endpoint of [{ kind: 'sim' as const }, { kind: 'url' as const, url: 'http://127.0.0.1:30000', api: 'chat' as const }]) {
    for (const d of DATASET_PRESETS) {
      for (const l of LOAD_PRESETS) {
        const nb = quickBenchNotebook(endpoint, d, l);
        const cells = nb.cells.filter((c) => c.kind === 'code').map((c, i) => ({ id: String(i), language: c.language, text: c.source }));
        assert.ok(cells.some((c) => c.language === 'moebench-bench'));
        for (const c of cells) {
          const errors = diagnoseCell(c, cells).filter((x) => x.severity === 'error');
          assert.deepEqual(errors.map((e) => `${c.language} line ${e.line}: ${e.message}`), [], `${endpoint.kind}/${d.id}/${l.id}`);
        }
      }
    }
  }
});
