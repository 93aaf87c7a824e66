/** Issue 17, class 10: a dataset error never quotes the file it read (a notebook can point at a key file). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../../../src/core/load/datasets';
import { DatasetError } from '../../../src/core/load/datasets/errors';

const SECRET_LINE = 'root:$6$canarysalt$canaryhash:19000:0:99999:7:::';

test('a dataset path at a non-JSON file fails naming the file and position, without quoting its bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-dsq-'));
  try {
    const file = join(dir, 'shadow');
    writeFileSync(file, `${SECRET_LINE}\nmore secret\n`);
    let failures = 0;
    for (const name of ['sharegpt', 'jsonl', 'gsm8k', 'alpaca-eval', 'custom']) {
      const err = await loadDataset({ name, numPrompts: 1, seed: 1, path: file } as Parameters<typeof loadDataset>[0], dir).then(() => undefined, (e: unknown) => e);
      if (err === undefined) continue;
      assert.ok(err instanceof DatasetError, `${name}: ${String(err)}`);
      assert.ok(!err.message.includes('root:') && !err.message.includes('canary'), `${name} quoted the file: ${err.message}`);
      assert.equal(err.where.file, file);
      failures++;
    }
    assert.ok(failures >= 2, `only ${failures} dataset kinds read the file`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
