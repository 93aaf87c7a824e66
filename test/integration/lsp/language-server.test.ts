import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LspClient, ROOT, type Diag } from './lsp-client';

const CLUSTER = 'name: test\nkind: sim\nnodes: 4\ngpusPerNode: 2\n';
const DEPLOY = readFileSync(join(ROOT, 'test/fixtures/plan/deploy-2p2d-test.yaml'), 'utf8');

let lsp: LspClient;
before(async () => {
  lsp = new LspClient();
  await lsp.initialize();
  await lsp.openNotebook([
    { language: 'moebench-cluster', text: CLUSTER },
    { language: 'moebench-deploy', text: DEPLOY },
  ]);
});
after(async () => lsp.stop());

function lineOf(text: string, needle: string): number {
  return text.split('\n').findIndex((l) => l.includes(needle));
}

test('a valid 2P+2D deploy cell has no errors', async () => {
  const d = await lsp.diagnosticsFor(1);
  assert.deepEqual(d.filter((x) => x.severity === 1).map((x) => x.message), []);
});

test('a typo in a deploy key is an error on its own line', async () => {
  const text = DEPLOY.replace('transfer: { backend: mooncake }', 'transfr: { backend: mooncake }');
  await lsp.changeCell(1, text);
  const d = await lsp.diagnosticsFor(1);
  const typo = d.find((x) => /transfr/.test(x.message));
  assert.ok(typo, `diagnostics: ${JSON.stringify(d.map((x) => x.message))}`);
  assert.equal(typo.range.start.line, lineOf(text, 'transfr:'));
  assert.equal(typo.severity, 1);
});

test('a planner rule (ep must equal tp under DeepEP) is reported at the ep line', async () => {
  const text = DEPLOY.replace('parallel: { tp: 2, dp: 2, dpAttention: true, moeDenseTp: 1 }\n  memory: { cudaGraphBatchSizes', 'parallel: { tp: 2, dp: 2, ep: 1, dpAttention: true, moeDenseTp: 1 }\n  memory: { cudaGraphBatchSizes');
  await lsp.changeCell(1, text);
  const d = await lsp.diagnosticsFor(1);
  const ep = d.find((x) => x.code === 'ep-deepep');
  assert.ok(ep, `diagnostics: ${JSON.stringify(d.map((x) => `${x.code}: ${x.message}`))}`);
  assert.equal(ep.range.start.line, lineOf(text, 'ep: 1'));
});

test('a deploy cell naming a cluster that is not in the notebook is an error at "cluster:"', async () => {
  const text = DEPLOY.replace('cluster: test', 'cluster: nope');
  await lsp.changeCell(1, text);
  const d = await lsp.diagnosticsFor(1);
  const bad = d.find((x) => /No moebench-cluster cell named "nope"/.test(x.message));
  assert.ok(bad, JSON.stringify(d.map((x) => x.message)));
  assert.equal(bad.range.start.line, lineOf(text, 'cluster: nope'));
});

test('a removed flag in extraArgs is an error on that list item', async () => {
  const text = DEPLOY + 'extraArgs: [--enable-deepep-moe]\n';
  await lsp.changeCell(1, text);
  const d = await lsp.diagnosticsFor(1);
  const flag = d.find((x) => /--enable-deepep-moe/.test(x.message));
  assert.ok(flag, JSON.stringify(d.map((x) => x.message)));
  assert.equal(flag.range.start.line, lineOf(text, '--enable-deepep-moe'));
});

test('completion in extraArgs offers --moe-a2a-backend with its type and help', async () => {
  const text = DEPLOY + 'extraArgs:\n  - --moe\n';
  await lsp.changeCell(1, text);
  const line = lineOf(text, '  - --moe');
  const items = (await lsp.conn.sendRequest('textDocument/completion', { textDocument: { uri: lsp.cellUri(1) }, position: { line, character: 9 } })) as { label: string; detail?: string; documentation?: { value: string } }[];
  const item = items.find((i) => i.label === '--moe-a2a-backend');
  assert.ok(item, `got ${items.length} items`);
  assert.match(item.detail ?? '', /sglang 0\.5\.15/);
  assert.ok((item.documentation?.value ?? '').length > 20, 'has help text');
});

test('completion of keys at the top level offers deploy spec keys', async () => {
  const text = DEPLOY + 'rou';
  await lsp.changeCell(1, text);
  const line = text.split('\n').length - 1;
  const res = (await lsp.conn.sendRequest('textDocument/completion', { textDocument: { uri: lsp.cellUri(1) }, position: { line, character: 3 } })) as { label: string }[] | { items: { label: string }[] };
  const items = Array.isArray(res) ? res : res.items;
  const labels = items.map((i) => i.label);
  assert.ok(labels.includes('env') || labels.includes('extraArgs'), `labels: ${labels.join(', ')}`);
});

test('hover on a flag in extraArgs shows the catalog help', async () => {
  const text = DEPLOY + 'extraArgs: [--decode-log-interval, "1"]\n';
  await lsp.changeCell(1, text);
  const line = lineOf(text, '--decode-log-interval');
  const character = text.split('\n')[line].indexOf('--decode-log-interval') + 3;
  const hover = (await lsp.conn.sendRequest('textDocument/hover', { textDocument: { uri: lsp.cellUri(1) }, position: { line, character } })) as { contents: { value: string } } | null;
  assert.ok(hover);
  assert.match(hover.contents.value, /--decode-log-interval/);
  assert.match(hover.contents.value, /int/);
});

test('broken YAML gives a diagnostic, never a crash', async () => {
  await lsp.changeCell(1, 'name: x\n  bad: [unclosed\n\t- tab');
  const d = await lsp.diagnosticsFor(1);
  assert.ok(d.length > 0);
  // the server is still alive and answers
  await lsp.changeCell(1, DEPLOY);
  assert.deepEqual((await lsp.diagnosticsFor(1)).filter((x) => x.severity === 1), []);
});

test('quick fix: "set ep to tp under DeepEP" replaces the ep value', async () => {
  const text = DEPLOY.replace('parallel: { tp: 2, dp: 2, dpAttention: true, moeDenseTp: 1 }\n  memory: { cudaGraphBatchSizes', 'parallel: { tp: 2, dp: 2, ep: 1, dpAttention: true, moeDenseTp: 1 }\n  memory: { cudaGraphBatchSizes');
  await lsp.changeCell(1, text);
  const d = await lsp.diagnosticsFor(1);
  const ep = d.find((x) => x.code === 'ep-deepep');
  assert.ok(ep);
  const actions = (await lsp.conn.sendRequest('textDocument/codeAction', { textDocument: { uri: lsp.cellUri(1) }, range: ep.range, context: { diagnostics: [ep] } })) as { title: string; edit: { changes: Record<string, { range: Diag['range']; newText: string }[]> } }[];
  const fix = actions.find((a) => /ep/i.test(a.title));
  assert.ok(fix, `actions: ${actions.map((a) => a.title).join(', ')}`);
  const [edit] = fix.edit.changes[lsp.cellUri(1)];
  assert.equal(edit.newText, '2');
  assert.equal(edit.range.start.line, lineOf(text, 'ep: 1'));
  const lineText = text.split('\n')[edit.range.start.line];
  assert.equal(lineText.slice(edit.range.start.character, edit.range.end.character), '1', 'the edit replaces exactly the ep value');
});

test('quick fix: a deprecated flag in extraArgs is renamed to its replacement (0.5.15: --stream-output)', async () => {
  const text = DEPLOY + 'extraArgs: [--stream-output]\n';
  await lsp.changeCell(1, text);
  const d = await lsp.diagnosticsFor(1);
  const flag = d.find((x) => /--stream-output/.test(x.message));
  assert.ok(flag, JSON.stringify(d.map((x) => x.message)));
  assert.equal(flag.severity, 2, 'deprecated is a warning, not an error');
  const actions = (await lsp.conn.sendRequest('textDocument/codeAction', { textDocument: { uri: lsp.cellUri(1) }, range: flag.range, context: { diagnostics: [flag] } })) as { title: string; edit: { changes: Record<string, { newText: string }[]> } }[];
  const edits = actions.flatMap((a) => a.edit.changes[lsp.cellUri(1)]);
  assert.ok(edits.some((e) => e.newText === '--incremental-streaming-output'), `edits: ${JSON.stringify(edits)}`);
});

test('no half fix: a removed flag whose replacement needs a value (--enable-deepep-moe) gets none, the message names it', async () => {
  const text = DEPLOY + 'extraArgs: [--enable-deepep-moe]\n';
  await lsp.changeCell(1, text);
  const d = await lsp.diagnosticsFor(1);
  const flag = d.find((x) => /--enable-deepep-moe/.test(x.message));
  assert.ok(flag);
  assert.match(flag.message, /--moe-a2a-backend/);
  const actions = (await lsp.conn.sendRequest('textDocument/codeAction', { textDocument: { uri: lsp.cellUri(1) }, range: flag.range, context: { diagnostics: [flag] } })) as { title: string; edit: { changes: Record<string, { newText: string }[]> } }[];
  for (const a of actions) assert.ok(!a.edit.changes[lsp.cellUri(1)].some((e) => e.newText === '--moe-a2a-backend'));
});

test('quick fix: a misspelt flag in extraArgs is corrected to the closest real one', async () => {
  const text = DEPLOY + 'extraArgs: [--decode-log-intervall, "1"]\n';
  await lsp.changeCell(1, text);
  const d = await lsp.diagnosticsFor(1);
  const flag = d.find((x) => /--decode-log-intervall/.test(x.message));
  assert.ok(flag, JSON.stringify(d.map((x) => x.message)));
  const actions = (await lsp.conn.sendRequest('textDocument/codeAction', { textDocument: { uri: lsp.cellUri(1) }, range: flag.range, context: { diagnostics: [flag] } })) as { title: string; edit: { changes: Record<string, { newText: string }[]> } }[];
  const edits = actions.flatMap((a) => a.edit.changes[lsp.cellUri(1)]);
  assert.ok(edits.some((e) => e.newText === '--decode-log-interval'), `edits: ${JSON.stringify(edits)}`);
});

test('quick fix: chunked prefill is rounded to a multiple of dp', async () => {
  const text = DEPLOY.replace('memory: { chunkedPrefill: 16384 }', 'memory: { chunkedPrefill: 16385 }');
  await lsp.changeCell(1, text);
  const d = await lsp.diagnosticsFor(1);
  const chunk = d.find((x) => x.code === 'chunked-prefill');
  assert.ok(chunk, JSON.stringify(d.map((x) => `${x.code}: ${x.message}`)));
  const actions = (await lsp.conn.sendRequest('textDocument/codeAction', { textDocument: { uri: lsp.cellUri(1) }, range: chunk.range, context: { diagnostics: [chunk] } })) as { title: string; edit: { changes: Record<string, { newText: string }[]> } }[];
  const edits = actions.flatMap((a) => a.edit.changes[lsp.cellUri(1)]);
  assert.ok(edits.some((e) => Number(e.newText) % 2 === 0 && Math.abs(Number(e.newText) - 16385) <= 1), `edits: ${JSON.stringify(edits)}`);
});
