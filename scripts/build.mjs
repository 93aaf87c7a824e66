// Bundles with esbuild: extension (node cjs), CLI (node cjs), language server (node cjs),
// renderer (browser ESM, code-split so Plotly loads lazily), extension-host tests (node cjs).
// Usage: node scripts/build.mjs [--watch] [--minify]
import * as esbuild from 'esbuild';
import { readFileSync, mkdirSync, existsSync, copyFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const watch = process.argv.includes('--watch');
const minify = process.argv.includes('--minify');

// zod re-exports every one of its ~50 message locales (`z.locales`, 259 KB of each minified
// bundle, three bundles in the VSIX). We never switch locale: English, which zod configures
// itself, is all that is kept.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: join(dirname(args.importer), '../locales/en.js'), namespace: 'zod-locales' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

/**
 * The language server never opens an SSH connection, formats YAML, or reports schema errors in
 * another language, yet its imports drag in what does (ssh2 through the cluster-kind registry's
 * validators, prettier through yaml-language-server's formatter, which yaml-schemas.ts turns off,
 * every ajv-i18n locale): ~0.85 MB of its 2.4 MB bundle. Those modules become stubs there; a call
 * into one throws a message naming it instead of running half a library.
 */
const languageServerStubs = {
  name: 'language-server-stubs',
  setup(build) {
    build.onResolve({ filter: /^(ssh2|prettier\/standalone|prettier\/plugins\/\w+)$/ }, (args) => ({ path: args.path, namespace: 'ls-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'ls-stub' }, (args) => ({
      contents: `const name = ${JSON.stringify(args.path)};
const unavailable = (what) => function () { throw new Error(name + ' is not part of the MoE Bench language server (' + what + ')'); };
module.exports = new Proxy({}, { get: (_, key) => (key === '__esModule' ? false : typeof key === 'string' ? unavailable(key) : undefined) });`,
      loader: 'js',
    }));
    // yaml-language-server pins its own older copies of packages this bundle already holds
    // (yaml 2.8 next to 2.9, the LSP packages one release behind): one copy each. Its language
    // service (all we use of it) takes only LSP types and a few classes from them (RequestType,
    // NotificationType, ResponseError, ErrorCodes, TextDocuments) that are the same in both
    build.onResolve({ filter: /^(yaml|vscode-languageserver(-types|-protocol)?|vscode-jsonrpc)(\/.*)?$/ }, (args) =>
      /[\\/]yaml-language-server[\\/]/.test(args.importer) ? build.resolve(args.path, { resolveDir: root, kind: args.kind }) : undefined,
    );
    // English only (the localizer yaml-language-server falls back to)
    build.onResolve({ filter: /^ajv-i18n$/ }, () => ({ path: 'ajv-i18n', namespace: 'ls-ajv-en' }));
    build.onLoad({ filter: /.*/, namespace: 'ls-ajv-en' }, () => ({
      contents: `const en = require('ajv-i18n/localize/en'); module.exports = { en, default: { en } };`,
      resolveDir: root,
      loader: 'js',
    }));
  },
};

const node = {
  bundle: true,
  plugins: [zodEnglishOnly],
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  minify,
  logLevel: 'warning',
  // ssh2's optional native helpers: it falls back to pure JS when they are absent
  external: ['vscode', 'cpu-features', '*.node'],
  mainFields: ['module', 'main'],
  define: { __MOEBENCH_VERSION__: JSON.stringify(pkg.version) },
};

const targets = [
  { ...node, entryPoints: { extension: join(root, 'src/extension/extension.ts') }, outdir: join(root, 'out') },
  { ...node, entryPoints: { cli: join(root, 'src/cli/main.ts') }, outdir: join(root, 'out'), banner: { js: '#!/usr/bin/env node' } },
  // the load generator's worker threads (src/core/load/pool.ts starts them from beside the bundle)
  { ...node, entryPoints: { 'load-worker': join(root, 'src/core/load/worker-entry.ts') }, outdir: join(root, 'out') },
  {
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    splitting: true,
    minify: true,
    sourcemap: false,
    logLevel: 'warning',
    entryPoints: { renderer: join(root, 'media/src/renderer.ts') },
    outdir: join(root, 'out/media'),
    chunkNames: 'chunks/[name]-[hash]',
  },
];
if (existsSync(join(root, 'src/language-server/server.ts'))) {
  targets.push({ ...node, plugins: [...node.plugins, languageServerStubs], entryPoints: { 'language-server': join(root, 'src/language-server/server.ts') }, outdir: join(root, 'out') });
}
if (existsSync(join(root, 'test/vscode/index.ts'))) {
  targets.push({ ...node, entryPoints: { index: join(root, 'test/vscode/index.ts') }, outdir: join(root, 'out/test'), external: ['vscode', 'cpu-features', '*.node', 'mocha'] });
}

/**
 * Every file in out/ is replaced by a rename, never rewritten in place: test suites run side by
 * side (scripts/test.mjs) and one of them rebuilds out/ (`vsce package` runs the minified build)
 * while others start `node out/cli.js` or load out/plotly.min.js; a reader sees the old file or
 * the new one, never half of one.
 */
function replaceFile(path, write) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  write(tmp);
  renameSync(tmp, path);
}

mkdirSync(join(root, 'out'), { recursive: true });
// the HTML report inlines Plotly; a packaged extension has no node_modules, so ship the file beside the bundles
replaceFile(join(root, 'out/plotly.min.js'), (tmp) => copyFileSync(join(root, 'node_modules/plotly.js-dist-min/plotly.min.js'), tmp));
rmSync(join(root, 'out/media/chunks'), { recursive: true, force: true });
if (watch) {
  for (const t of targets) (await esbuild.context(t)).watch();
  console.log('watching…');
} else {
  const t0 = Date.now();
  const built = await Promise.all(targets.map((t) => esbuild.build({ ...t, write: false })));
  for (const r of built) for (const f of r.outputFiles) replaceFile(f.path, (tmp) => writeFileSync(tmp, f.contents));
  console.log(`built ${targets.length} bundles in ${Date.now() - t0} ms`);
}
