// Regenerates the planner's SGLang flag catalog (src/core/engines/sglang/catalog-data.ts) from
// SGLang's own source, without importing sglang: see README "Refreshing the flag catalog".
//
//   npm run catalog:sglang -- <sglang checkout | git dir | file set> [--rev REV] [--history] [--since v0.4.6] [--out FILE] [--check]
//                              [--version LABEL] [--snapshot VERSION=PATH ...]
//
// --snapshot adds an older release read from another checkout or file set (repeatable, oldest
// first), for builds whose history is not in one git repository.
// --history reads every release tag vX.Y.Z[.postN] from --since on, plus REV (default HEAD) as
// "main", so the catalog knows which release first/last accepted each flag. Without it only REV
// (or the folder as it is) is read and becomes the whole catalog.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CatalogSourceError, extractRouterArgs, extractSglangServerArgs } from '../src/core/engines/catalog-gen/extract';
import { renderSglangCatalogModule, type CatalogSnapshot } from '../src/core/engines/catalog-gen/render';
import { openSource } from '../src/core/engines/catalog-gen/sources';
import { compareVersions, parseVersion } from '../src/core/util/version';

interface Options {
  source: string;
  rev?: string;
  history: boolean;
  since: string;
  out: string;
  check: boolean;
  version?: string;
  snapshots: Array<{ version: string; path: string }>;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { source: '', history: false, since: 'v0.4.6', out: join(__dirname, '..', 'src', 'core', 'engines', 'sglang', 'catalog-data.ts'), check: false, snapshots: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new CatalogSourceError(`${a} needs a value`);
      return v;
    };
    if (a === '--rev') opts.rev = value();
    else if (a === '--history') opts.history = true;
    else if (a === '--since') opts.since = value();
    else if (a === '--out') opts.out = value();
    else if (a === '--version') opts.version = value();
    else if (a === '--check') opts.check = true;
    else if (a === '--snapshot') {
      const v = value();
      const eq = v.indexOf('=');
      if (eq <= 0) throw new CatalogSourceError(`--snapshot ${v}: write VERSION=PATH, e.g. 0.5.15=/opt/sglang-0.5.15`);
      opts.snapshots.push({ version: parseVersion(v.slice(0, eq)).text, path: v.slice(eq + 1) });
    }
    else if (a.startsWith('-')) throw new CatalogSourceError(`unknown option ${a}`);
    else opts.source = a;
  }
  if (!opts.source) throw new CatalogSourceError('usage: npm run catalog:sglang -- <path to an sglang checkout or file set> [--rev REV] [--history] [--since v0.4.6] [--out FILE] [--check]');
  return opts;
}

function snapshotAt(tree: ReturnType<typeof openSource>, version: string, rev?: string): CatalogSnapshot {
  const files = tree.read(rev);
  const server = extractSglangServerArgs(files);
  const router = extractRouterArgs(files);
  const commit = tree.commitOf(rev);
  if (!commit) throw new CatalogSourceError(`cannot tell the source commit of ${tree.describe}: use a git checkout, or write "<sha> <yyyy-mm-dd>" into SOURCE_COMMIT in the file set`);
  return { version, commit, date: tree.dateOf(rev) ?? 'unknown', layout: server.layout, flags: server.flags, router: router?.flags };
}

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const tree = openSource(opts.source);
  const snapshots: CatalogSnapshot[] = [];
  if (opts.history) {
    const tags = tree
      .releaseTags()
      .filter((t) => compareVersions(parseVersion(t), parseVersion(opts.since)) >= 0)
      .sort((a, b) => compareVersions(parseVersion(a), parseVersion(b)));
    for (const tag of tags) {
      const snap = snapshotAt(tree, parseVersion(tag).text, tag);
      process.stderr.write(`${tag}: ${snap.flags.length} flags, ${snap.router?.length ?? 0} router flags (${snap.layout}, ${snap.commit.slice(0, 10)})\n`);
      snapshots.push(snap);
    }
  }
  for (const extra of opts.snapshots) {
    const snap = snapshotAt(openSource(extra.path), extra.version);
    process.stderr.write(`${extra.version}: ${snap.flags.length} flags, ${snap.router?.length ?? 0} router flags (${snap.layout}, ${snap.commit.slice(0, 10)})\n`);
    snapshots.push(snap);
  }
  snapshots.sort((a, b) => compareVersions(parseVersion(a.version), parseVersion(b.version)));
  const head = snapshotAt(tree, opts.version ?? 'main', opts.rev);
  process.stderr.write(`${opts.rev ?? 'HEAD'}: ${head.flags.length} flags, ${head.router?.length ?? 0} router flags (${head.layout}, ${head.commit.slice(0, 10)})\n`);
  snapshots.push(head);
  const text = renderSglangCatalogModule(snapshots, { command: 'npm run catalog:sglang -- <sglang checkout> --history (README: Refreshing the flag catalog)' });
  if (opts.check) {
    const current = readFileSync(opts.out, 'utf8');
    if (current !== text) {
      process.stderr.write(`${opts.out} differs from what this source generates\n`);
      process.exitCode = 1;
    }
    return;
  }
  writeFileSync(opts.out, text);
  process.stderr.write(`wrote ${opts.out}\n`);
}

try {
  main();
} catch (e) {
  if (e instanceof CatalogSourceError) {
    process.stderr.write(`catalog:sglang: ${e.message}\n`);
    process.exitCode = 2;
  } else throw e;
}
