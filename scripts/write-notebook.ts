// Writes a canonical .moebench file from a simple YAML description (used to author sample notebooks):
//   node --import tsx scripts/write-notebook.ts notebooks/src/quickstart.yaml notebooks/quickstart.moebench
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { serializeNotebook } from '../src/core/notebook/format';
import type { NotebookCell } from '../src/core/notebook/model';

const [src, out] = process.argv.slice(2);
const desc = parse(readFileSync(src, 'utf8')) as { metadata?: Record<string, unknown>; cells: { markdown?: string; language?: string; code?: string }[] };
const cells: NotebookCell[] = desc.cells.map((c) =>
  c.markdown !== undefined
    ? { kind: 'markdown', language: 'markdown', source: c.markdown.replace(/\n$/, '') }
    : { kind: 'code', language: c.language ?? 'shellscript', source: (c.code ?? '').replace(/\n$/, '') },
);
writeFileSync(out, serializeNotebook({ metadata: desc.metadata ?? {}, cells }));
console.log(`wrote ${out} (${cells.length} cells)`);
