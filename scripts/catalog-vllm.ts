// Regenerates the planner's vLLM flag data (src/core/engines/vllm/catalog-data.ts) from vLLM's own
// source, statically: see README "Refreshing the flag catalog".
//
//   npm run catalog:vllm -- <vllm checkout | git dir | file set> [--rev REV] [--out FILE] [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CatalogSourceError } from '../src/core/engines/catalog-gen/extract';
import { renderVllmCatalogModule } from '../src/core/engines/catalog-gen/render';
import { openSource } from '../src/core/engines/catalog-gen/sources';
import { extractVllmServeArgs, isVllmSourcePath } from '../src/core/engines/catalog-gen/vllm-extract';

function main(): void {
  const argv = process.argv.slice(2);
  let source = '';
  let rev: string | undefined;
  let out = join(__dirname, '..', 'src', 'core', 'engines', 'vllm', 'catalog-data.ts');
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new CatalogSourceError(`${a} needs a value`);
      return v;
    };
    if (a === '--rev') rev = value();
    else if (a === '--out') out = value();
    else if (a === '--check') check = true;
    else if (a.startsWith('-')) throw new CatalogSourceError(`unknown option ${a}`);
    else source = a;
  }
  if (!source) throw new CatalogSourceError('usage: npm run catalog:vllm -- <path to a vllm checkout or file set> [--rev REV] [--out FILE] [--check]');
  const tree = openSource(source, isVllmSourcePath);
  const flags = extractVllmServeArgs(tree.read(rev));
  const commit = tree.commitOf(rev);
  if (!commit) throw new CatalogSourceError(`cannot tell the source commit of ${source}: use a git checkout, or write "<sha> <yyyy-mm-dd>" into SOURCE_COMMIT in the file set`);
  process.stderr.write(`${rev ?? 'HEAD'}: ${flags.length} vllm serve flags (${commit.slice(0, 10)})\n`);
  const text = renderVllmCatalogModule({ commit, date: tree.dateOf(rev) ?? 'unknown', flags });
  if (check) {
    if (readFileSync(out, 'utf8') !== text) {
      process.stderr.write(`${out} differs from what this source generates\n`);
      process.exitCode = 1;
    }
    return;
  }
  writeFileSync(out, text);
  process.stderr.write(`wrote ${out}\n`);
}

try {
  main();
} catch (e) {
  if (e instanceof CatalogSourceError) {
    process.stderr.write(`catalog:vllm: ${e.message}\n`);
    process.exitCode = 2;
  } else throw e;
}
