import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { withDefaultsInHovers } from '../../../src/core/lang/schemas';
import { YamlSchemaServices } from '../../../src/language-server/yaml-schemas';

test('schema hovers state the default next to the meaning', () => {
  const out = withDefaultsInHovers({ type: 'object', properties: { seed: { type: 'number', default: 1, description: 'dataset seed' }, n: { type: 'number' } } }) as { properties: Record<string, Record<string, unknown>> };
  assert.equal(out.properties.seed.markdownDescription, 'dataset seed\n\nDefault: `1`');
  assert.equal(out.properties.n.markdownDescription, undefined);
});

test('hovering a bench cell field in the real YAML language service shows its meaning and its default', async () => {
  const text = 'name: b\ntarget: d\nworkload:\n  dataset: random\n  rangeRatio: 1\n';
  const doc = TextDocument.create('cell://b', 'moebench-bench', 1, text);
  const svc = new YamlSchemaServices().get('moebench-bench');
  assert.ok(svc);
  const offset = text.indexOf('rangeRatio') + 3;
  const hover = await svc.doHover(doc, doc.positionAt(offset));
  const value = JSON.stringify(hover?.contents ?? '');
  assert.match(value, /uniform in/, 'the meaning');
  assert.match(value, /Default: `0`/, 'the default');
});

test('each snippet has one prefix (two made VS Code list the same snippet twice)', () => {
  const root = join(__dirname, '../../..');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { contributes: { snippets: { path: string }[] } };
  for (const c of pkg.contributes.snippets) {
    const snippets = JSON.parse(readFileSync(join(root, c.path), 'utf8')) as Record<string, { prefix: unknown }>;
    for (const [name, s] of Object.entries(snippets)) assert.equal(typeof s.prefix, 'string', `${c.path}: "${name}"`);
  }
});
