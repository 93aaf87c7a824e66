import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diagnoseCell } from '../../../src/core/lang/diagnose';
import { quickFixesFor } from '../../../src/core/lang/quick-fix';

test('a typo in a key says "did you mean" and the quick fix renames the key, nothing else', () => {
  const text = 'name: b\ntarget: d\nworkload:\n  dataset: random\n  numPrompt: 10\n';
  const cell = { id: 'b', language: 'moebench-bench', text };
  const diags = diagnoseCell(cell, [cell]);
  const typo = diags.find((d) => /numPrompt/.test(d.message));
  assert.ok(typo, JSON.stringify(diags));
  assert.match(typo.message, /did you mean "numPrompts" for "numPrompt"\?/);
  const [fix] = quickFixesFor(text, [typo]);
  assert.equal(fix.title, 'Rename to "numPrompts"');
  const fixed = text.slice(0, fix.edit.start) + fix.edit.newText + text.slice(fix.edit.end);
  assert.equal(fixed, 'name: b\ntarget: d\nworkload:\n  dataset: random\n  numPrompts: 10\n');
});

test('a top-level typo (targe) and one in a flow map are found too', () => {
  const text = 'name: b\ntarge: d\nload: { maxConcurency: 4 }\n';
  const cell = { id: 'b', language: 'moebench-bench', text };
  const msgs = diagnoseCell(cell, [cell]).map((d) => d.message);
  assert.ok(msgs.some((m) => /did you mean "target"/.test(m)), msgs.join('\n'));
  assert.ok(msgs.some((m) => /did you mean "maxConcurrency"/.test(m)), msgs.join('\n'));
});

test('a word far from every key gets no guess', () => {
  const text = 'name: b\ntarget: d\nbanana: 1\n';
  const cell = { id: 'b', language: 'moebench-bench', text };
  const msgs = diagnoseCell(cell, [cell]).map((d) => d.message);
  assert.ok(msgs.some((m) => /banana/.test(m)), msgs.join('\n'));
  assert.ok(!msgs.some((m) => /did you mean/.test(m)), msgs.join('\n'));
});
