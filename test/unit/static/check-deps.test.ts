import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// The dependency rules of `npm test` (scripts/check-deps.mjs) on small trees with the src/core
// layout: each rule must fail on the breach it exists for, naming the import that makes it.
const script = join(__dirname, '..', '..', '..', 'scripts', 'check-deps.mjs');

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-deps-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

function check(dir: string): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [script, dir], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

test('a layered tree passes', () => {
  const r = check(tree({
    'src/core/util/a.ts': 'export const a = 1;\n',
    'src/core/plan/b.ts': "import { a } from '../util/a';\nexport const b = a;\n",
    'src/core/cells/c.ts': "import { b } from '../plan/b';\nexport const c = b;\n",
  }));
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /0 folder cycles/);
});

test('a cycle between two src/core folders fails and names both imports, type-only ones included', () => {
  const r = check(tree({
    'src/core/load/x.ts': "import type { Y } from '../metrics/y';\nexport interface X { y?: Y }\n",
    'src/core/metrics/y.ts': "import type { X } from '../load/x';\nexport interface Y { x?: X }\n",
  }));
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /cycle between src\/core folders load, metrics/);
  assert.match(r.out, /src\/core\/load\/x\.ts -> src\/core\/metrics\/y\.ts/);
  assert.match(r.out, /src\/core\/metrics\/y\.ts -> src\/core\/load\/x\.ts/);
});

test('importing cells/ from below it fails, a dynamic import too', () => {
  const r = check(tree({
    'src/core/cells/bench.ts': 'export const run = 1;\n',
    'src/core/plan/p.ts': "export const later = () => import('../cells/bench');\n",
  }));
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /cells is imported from below it: src\/core\/plan\/p\.ts -> src\/core\/cells\/bench\.ts/);
});
