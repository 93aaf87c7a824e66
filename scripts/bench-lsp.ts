/**
 * Language-server figures on the 4P+9D sample notebook: process start to initialize answered,
 * time to the first diagnostics of the deploy cell, and completion latency in `extraArgs`
 * (median and p95 over repeated requests). Prints figures; asserts nothing.
 *   npm run build && node --import tsx scripts/bench-lsp.ts [--repeat 50]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseNotebook } from '../src/core/notebook/format';
import { LspClient, ROOT } from '../test/integration/lsp/lsp-client';

const repeat = Number(process.argv[process.argv.indexOf('--repeat') + 1] || 50);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

void (async () => {
  const nb = parseNotebook(readFileSync(join(ROOT, 'notebooks/pd-ep-96gpu.moebench'), 'utf8'));
  const cells = nb.cells.filter((c) => c.kind === 'code' && c.language.startsWith('moebench-')).map((c) => ({ language: c.language, text: c.source }));
  const deployIndex = cells.findIndex((c) => c.language === 'moebench-deploy');
  const t0 = performance.now();
  const lsp = new LspClient();
  await lsp.initialize();
  const tInit = performance.now();
  await lsp.openNotebook(cells);
  await lsp.diagnosticsFor(deployIndex, 30_000);
  const tDiag = performance.now();
  // completion inside a new extraArgs list of the deploy cell
  const text = cells[deployIndex].text + '\nextraArgs:\n  - --moe';
  await lsp.changeCell(deployIndex, text);
  const line = text.split('\n').length - 1;
  const times: number[] = [];
  let items = 0;
  for (let i = 0; i < repeat; i++) {
    const s = performance.now();
    const r = (await lsp.conn.sendRequest('textDocument/completion', { textDocument: { uri: lsp.cellUri(deployIndex) }, position: { line, character: 9 } })) as unknown[];
    times.push(performance.now() - s);
    items = r.length;
  }
  const keyTimes: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const s = performance.now();
    await lsp.conn.sendRequest('textDocument/completion', { textDocument: { uri: lsp.cellUri(deployIndex) }, position: { line: 2, character: 0 } });
    keyTimes.push(performance.now() - s);
  }
  await lsp.stop();
  console.log(`language server: start -> initialized ${(tInit - t0).toFixed(0)} ms; first diagnostics of the 4P+9D deploy cell ${(tDiag - tInit).toFixed(0)} ms after open`);
  console.log(`completion in extraArgs (${items} flags): median ${pct(times, 50).toFixed(1)} ms, p95 ${pct(times, 95).toFixed(1)} ms, first ${times[0].toFixed(1)} ms (n=${repeat})`);
  console.log(`completion of deploy keys (schema): median ${pct(keyTimes, 50).toFixed(1)} ms, p95 ${pct(keyTimes, 95).toFixed(1)} ms, first ${keyTimes[0].toFixed(1)} ms`);
})();
