// Dependency rules of src/core, checked on the import graph that dependency-cruiser resolves
// (static, dynamic and type-only imports alike). Part of `npm test` (static suite).
//  1. cells/ sits just under the adapters (src/cli, src/extension, src/language-server): nothing
//     else in src/core imports it.
//  2. No cycles between src/core folders: the folder graph (a file directly under src/core counts
//     as its own node) has no strongly connected component of more than one folder.
// Prints each violation with one import that makes it, and exits 1 if there is any.
import { cruise } from 'dependency-cruiser';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { existsSync } from 'node:fs';

// the project root, or (tests) another tree with the same src/core layout
const root = process.argv[2] ?? join(fileURLToPath(new URL('.', import.meta.url)), '..');
process.chdir(root);
const result = await cruise(['src'], {
  ...(existsSync('tsconfig.json') ? { tsConfig: { fileName: 'tsconfig.json' } } : {}),
  tsPreCompilationDeps: true,
  doNotFollow: { path: 'node_modules' },
  exclude: { path: '(^|/)node_modules/' },
  moduleSystems: ['es6', 'cjs'],
});
const modules = result.output.modules;

const folderOf = (file) => {
  const m = /^src\/core\/([^/]+)(\/|$)/.exec(file);
  return m ? m[1].replace(/\.ts$/, '') : undefined;
};

const problems = [];
// rule 1
for (const m of modules) {
  const from = folderOf(m.source);
  if (!from || from === 'cells') continue;
  for (const d of m.dependencies) {
    if (folderOf(d.resolved) === 'cells') problems.push(`src/core/cells is imported from below it: ${m.source} -> ${d.resolved}`);
  }
}

// rule 2: folder graph and its strongly connected components (Tarjan)
const edges = new Map(); // folder -> Map(folder -> example "a -> b")
let fileEdges = 0;
for (const m of modules) {
  const from = folderOf(m.source);
  if (!from) continue;
  for (const d of m.dependencies) {
    const to = folderOf(d.resolved);
    if (!to || to === from) continue;
    fileEdges++;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from).has(to)) edges.get(from).set(to, `${m.source} -> ${d.resolved}`);
  }
}
const nodes = [...new Set([...edges.keys(), ...[...edges.values()].flatMap((e) => [...e.keys()])])].sort();
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const on = new Set();
const sccs = [];
const strong = (v) => {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  on.add(v);
  for (const w of edges.get(v)?.keys() ?? []) {
    if (!idx.has(w)) {
      strong(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const c = [];
    let w;
    do {
      w = stack.pop();
      on.delete(w);
      c.push(w);
    } while (w !== v);
    if (c.length > 1) sccs.push(c.sort());
  }
};
for (const v of nodes) if (!idx.has(v)) strong(v);
for (const c of sccs) {
  const inside = new Set(c);
  const why = c.flatMap((a) => [...(edges.get(a) ?? new Map())].filter(([b]) => inside.has(b)).map(([, ex]) => `    ${ex}`));
  problems.push(`cycle between src/core folders ${c.join(', ')}:\n${why.join('\n')}`);
}

console.log(`dependency rules: ${modules.length} modules, ${nodes.length} src/core folders, ${fileEdges} cross-folder imports, ${sccs.length} folder cycles`);
for (const p of problems) console.log(`- ${p}`);
process.exit(problems.length ? 1 : 0);
