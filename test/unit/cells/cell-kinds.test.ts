import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CELL_KINDS, YAML_CELL_LANGUAGES } from '../../../src/core/spec/cell-kinds';
import { defaultExecutors } from '../../../src/core/cells';
import { cellSchemas } from '../../../src/core/lang/schemas';

// The cell-kind list is the one source: package.json's contributions, the snippets folder, the
// executor table and the language server's schemas must all agree with it, so adding a kind in
// one place and forgetting another fails here, not in a user's editor.
const root = join(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  contributes: { languages: { id: string; aliases?: string[] }[]; grammars: { language: string }[]; snippets: { language: string; path: string }[] };
};

test('every cell kind has an executor, and every executor is a listed kind', () => {
  assert.deepEqual([...defaultExecutors().keys()].sort(), CELL_KINDS.map((k) => k.language).sort());
  for (const [language, e] of defaultExecutors()) assert.equal(e.language, language, `executor for ${language} reports ${e.language}`);
});

test('every YAML cell kind has a schema for the language server, and nothing else has one', () => {
  assert.deepEqual(Object.keys(cellSchemas()).sort(), [...YAML_CELL_LANGUAGES].sort());
});

test("package.json declares each YAML kind's language (with its label) and grammar, and nothing undeclared", () => {
  const ours = pkg.contributes.languages.filter((l) => l.id.startsWith('moebench-'));
  assert.deepEqual(ours.map((l) => l.id).sort(), [...YAML_CELL_LANGUAGES].sort());
  for (const k of CELL_KINDS.filter((c) => c.yaml)) {
    assert.deepEqual(pkg.contributes.languages.find((l) => l.id === k.language)?.aliases?.[0], k.label, `label of ${k.language}`);
    assert.ok(pkg.contributes.grammars.some((g) => g.language === k.language), `grammar for ${k.language}`);
  }
  assert.deepEqual(pkg.contributes.grammars.map((g) => g.language).sort(), [...YAML_CELL_LANGUAGES].sort());
});

test('each kind has exactly one snippets file, declared in package.json, and every snippet file belongs to a kind', () => {
  const declared = pkg.contributes.snippets.map((s) => [s.language, s.path.replace(/^\.\/snippets\//, '')] as const);
  assert.deepEqual(declared.map(([l, f]) => `${l}:${f}`).sort(), CELL_KINDS.map((k) => `${k.language}:${k.snippets}`).sort());
  assert.deepEqual(readdirSync(join(root, 'snippets')).filter((f) => f.endsWith('.json')).sort(), CELL_KINDS.map((k) => k.snippets).sort());
  for (const k of CELL_KINDS) {
    const snippets = JSON.parse(readFileSync(join(root, 'snippets', k.snippets), 'utf8')) as Record<string, { prefix: string }>;
    assert.ok(Object.keys(snippets).length > 0, `${k.snippets} has no snippet`);
  }
});
