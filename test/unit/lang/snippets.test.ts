import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagnoseCell } from '../../../src/core/lang/diagnose';
import type { NotebookCellText } from '../../../src/core/lang/notebook-context';

const ROOT = join(__dirname, '../../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { contributes: { snippets: { language: string; path: string }[] } };

/** a snippet body with every ${n:default} replaced by its default, as a user who tabs through gets */
function expand(body: string[]): string {
  return body.join('\n').replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\d+/g, '');
}

/** a 13-node ssh cluster and a 2-node one named like the snippets' defaults, so cross-cell checks pass */
function clusterFor(text: string): NotebookCellText {
  const name = /cluster: (\S+)/.exec(text)?.[1] ?? 'h100';
  const nodes = Array.from({ length: 13 }, (_, i) => `gpu-${String(i + 1).padStart(2, '0')}`).concat(['gpu-001', 'gpu-002']);
  return { id: 'cluster', language: 'moebench-cluster', text: `name: ${name}\nkind: ssh\ngpusPerNode: 8\nnodes: [${nodes.join(', ')}]\n` };
}

for (const contribution of pkg.contributes.snippets) {
  const snippets = JSON.parse(readFileSync(join(ROOT, contribution.path), 'utf8')) as Record<string, { body: string[] }>;
  for (const [name, s] of Object.entries(snippets)) {
    if (!contribution.language.startsWith('moebench-')) continue;
    test(`snippet "${name}" is a valid ${contribution.language} cell as inserted`, () => {
      const text = expand(s.body);
      const cell: NotebookCellText = { id: 'cell', language: contribution.language, text };
      // the names a snippet refers to (cluster, deployment, bench cells) exist in the notebook it lands in
      const deployNames = [...text.matchAll(/(?:target|deployment): ([A-Za-z0-9._-]+)/g)].map((m) => m[1]);
      const deployCells = deployNames.map((n, i) => ({ id: `d${i}`, language: 'moebench-deploy', text: `name: ${n}\ncluster: h100\nmodel: /models/x\nunified:\n  nodes: [gpu-01]\n  parallel: { tp: 8 }\n` }));
      const notebook = contribution.language === 'moebench-deploy' ? [clusterFor(text), cell] : contribution.language === 'moebench-cluster' ? [cell] : [clusterFor('cluster: h100'), ...deployCells, cell];
      const errors = diagnoseCell(cell, notebook).filter((d) => d.severity === 'error');
      assert.deepEqual(errors.map((e) => `line ${e.line}: ${e.message}`), []);
    });
  }
}
