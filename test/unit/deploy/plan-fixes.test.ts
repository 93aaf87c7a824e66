import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDeployCell, type LocatedIssue } from '../../../src/core/plan/planner';
import { nearestRedundantExperts } from '../../../src/core/plan/validate';
import type { PlanCluster } from '../../../src/core/plan/resolve';
import { quickFixesFor } from '../../../src/core/lang/quick-fix';

// Quick-fix data on planner issues: each fix names the YAML path as written and a value that,
// applied, makes the issue go away (checked by applying it with the language server's edit code).

const cluster: PlanCluster = {
  name: 'lab',
  kind: 'ssh',
  nodes: Array.from({ length: 4 }, (_, i) => ({ name: `gpu-0${i + 1}`, address: `10.0.0.${i + 1}`, gpus: 8 })),
};

function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

function only(text: string, rule: LocatedIssue['rule'], match?: RegExp): LocatedIssue {
  const found = checkDeployCell(text, cluster).filter((i) => i.rule === rule && (!match || match.test(i.message)));
  assert.equal(found.length, 1, `expected one ${rule} issue, got ${JSON.stringify(found.map((f) => f.message))}`);
  return found[0];
}

/** apply an issue's fix the way the editor does, and return the new cell text */
function applyFix(text: string, issue: LocatedIssue): string {
  const diagnostic = { ...issue, path: [...issue.path], fix: issue.fix && { ...issue.fix, path: [...issue.fix.path] } };
  const fixes = quickFixesFor(text, [diagnostic]);
  assert.equal(fixes.length, 1);
  const { start, end, newText } = fixes[0].edit;
  return text.slice(0, start) + newText + text.slice(end);
}

const unified = (parallel: string, moe: string, extra: string[] = []) =>
  yaml(
    'name: one',
    'cluster: lab',
    'engine: { kind: sglang, version: "0.5.15" }',
    'model: /models/DeepSeek-V3',
    'modelHint: deepseek-v3',
    'unified:',
    '  nodes: [gpu-01]',
    `  parallel: ${parallel}`,
    `  moe: ${moe}`,
    ...extra,
  );

test('ep under DeepEP: the fix sets ep to tp, and applying it clears the error', () => {
  const text = unified('{ tp: 8, ep: 4 }', '{ a2a: deepep, mode: normal }');
  const issue = only(text, 'ep-deepep');
  assert.deepEqual(issue.fix, { title: 'Set ep to 8 (= tp)', path: ['unified', 'parallel', 'ep'], value: 8 });
  const fixed = applyFix(text, issue);
  assert.match(fixed, /parallel: \{ tp: 8, ep: 8 \}/);
  assert.equal(checkDeployCell(fixed, cluster).filter((i) => i.rule === 'ep-deepep').length, 0);
});

test('a deprecated flag in a top-level extraArgs list is renamed in place (path as written: extraArgs[i])', () => {
  const text = unified('{ tp: 8 }', '{ a2a: none }', ['extraArgs: [--enable-metrics, --cuda-graph-bs, "4", "8"]']);
  const issue = only(text, 'flags', /--cuda-graph-bs is deprecated/);
  assert.deepEqual(issue.fix, { title: 'Rename --cuda-graph-bs to --cuda-graph-bs-decode', path: ['extraArgs', 1], value: '--cuda-graph-bs-decode' });
  const fixed = applyFix(text, issue);
  assert.match(fixed, /extraArgs: \[--enable-metrics, --cuda-graph-bs-decode, "4", "8"\]/);
  assert.equal(checkDeployCell(fixed, cluster).filter((i) => i.rule === 'flags').length, 0);
});

test('a renamed flag written --flag=value keeps its value; group extraArgs paths stay group paths', () => {
  const text = unified('{ tp: 8 }', '{ a2a: none }', ['  extraArgs: ["--nsa-decode-backend=flashmla_kv"]']);
  const issue = only(text, 'flags', /deprecated/);
  assert.deepEqual(issue.fix?.path, ['unified', 'extraArgs', 0]);
  assert.equal(issue.fix?.value, '--dsa-decode-backend=flashmla_kv');
  const fixed = applyFix(text, issue);
  assert.equal(checkDeployCell(fixed, cluster).filter((i) => i.rule === 'flags').length, 0);
});

test('a misspelt flag gets "did you mean" as a fix; a removed flag whose replacement needs a value gets none', () => {
  const text = unified('{ tp: 8 }', '{ a2a: none }', ['extraArgs: [--mem-fractoin-static, "0.8", --enable-deepep-moe]']);
  const typo = only(text, 'flags', /--mem-fractoin-static/);
  assert.deepEqual(typo.fix, { title: 'Change --mem-fractoin-static to --mem-fraction-static', path: ['extraArgs', 0], value: '--mem-fraction-static' });
  const removed = only(text, 'flags', /--enable-deepep-moe/);
  // "--moe-a2a-backend deepep" is two tokens: not a one-item rename
  assert.equal(removed.fix, undefined);
});

test('chunked prefill under DP attention is rounded to the nearest multiple of dp', () => {
  const text = yaml(
    'name: dpa',
    'cluster: lab',
    'engine: { kind: sglang, version: "0.5.15" }',
    'model: /models/DeepSeek-V3',
    'modelHint: deepseek-v3',
    'prefill:',
    '  nodes: [gpu-01, gpu-02]',
    '  parallel: { tp: 16, dp: 16, dpAttention: true }',
    '  moe: { a2a: deepep, mode: normal }',
    '  memory:',
    '    chunkedPrefill: 100000',
    'decode:',
    '  nodes: [gpu-03, gpu-04]',
    '  parallel: { tp: 16, dp: 16, dpAttention: true }',
    '  moe: { a2a: deepep, mode: low_latency }',
  );
  // 100000 = 6250 × 16 is clean
  assert.equal(checkDeployCell(text, cluster).filter((i) => i.rule === 'chunked-prefill').length, 0);
  const odd = text.replace('chunkedPrefill: 100000', 'chunkedPrefill: 100010');
  const i2 = only(odd, 'chunked-prefill', /rounded down/);
  assert.deepEqual(i2.fix?.path, ['prefill', 'memory', 'chunkedPrefill']);
  // 100010 / 16 = 6250.6 -> 6251 × 16
  assert.equal(i2.fix?.value, 100016);
  const fixed = applyFix(odd, i2);
  assert.match(fixed, /chunkedPrefill: 100016/);
  assert.equal(checkDeployCell(fixed, cluster).filter((i) => /rounded down/.test(i.message)).length, 0);
});

test('redundant experts: the fix picks the nearest count that divides over ep, down as well as up', () => {
  assert.equal(nearestRedundantExperts(256, 30, 16), 32);
  assert.equal(nearestRedundantExperts(256, 33, 16), 32);
  assert.equal(nearestRedundantExperts(256, 0, 24), 8);
  // tie (4 down, 4 up) goes up: more slots never hurts balance
  assert.equal(nearestRedundantExperts(256, 4, 8), 8);
  const text = unified('{ tp: 8 }', '{ a2a: deepep, mode: normal, redundantExperts: 6 }');
  const issue = only(text, 'experts-ep');
  assert.deepEqual(issue.fix?.path, ['unified', 'moe', 'redundantExperts']);
  assert.equal(issue.fix?.value, 8);
  const fixed = applyFix(text, issue);
  assert.equal(checkDeployCell(fixed, cluster).filter((i) => i.rule === 'experts-ep').length, 0);
});

test('redundant experts not written yet: the fix adds them to the group that needs them', () => {
  const text = yaml(
    'name: ep24',
    'cluster: lab',
    'engine: { kind: sglang, version: "0.5.15" }',
    'model: /models/DeepSeek-V3',
    'modelHint: deepseek-v3',
    'unified:',
    '  nodes: [gpu-01, gpu-02, gpu-03]',
    '  parallel: { tp: 24, dp: 24, dpAttention: true }',
    '  moe: { a2a: deepep, mode: low_latency }',
  );
  const issue = only(text, 'experts-ep');
  assert.deepEqual(issue.fix, { title: 'Set redundantExperts to 8 (264 expert slots = 11 per rank × ep 24)', path: ['unified', 'moe', 'redundantExperts'], value: 8 });
  const fixed = applyFix(text, issue);
  assert.equal(checkDeployCell(fixed, cluster).filter((i) => i.rule === 'experts-ep').length, 0);
});
