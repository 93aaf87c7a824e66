/** Issue 17, class 10: a huge file is refused by size, naming it, before it is read. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_NOTEBOOK_BYTES, readNotebookFile } from '../../../src/core/notebook/read-file';
import { NotebookFormatError } from '../../../src/core/util/errors';
import { runCommand } from '../../../src/cli/commands/run';

test('a 1 GiB notebook is refused with its name and size, without reading it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-big-'));
  try {
    const file = join(dir, 'huge.moebench');
    // sparse: 1 GiB on paper, nothing on disk
    const fd = openSync(file, 'w');
    ftruncateSync(fd, 1024 * 1024 * 1024);
    closeSync(fd);
    const before = process.memoryUsage().rss;
    assert.throws(() => readNotebookFile(file), (e: unknown) => e instanceof NotebookFormatError && e.message.includes(file) && /1024\.0 MiB/.test(e.message));
    assert.ok(process.memoryUsage().rss - before < MAX_NOTEBOOK_BYTES / 4, 'the file was read');
    let err = '';
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
    try {
      assert.equal(await runCommand([file]), 2);
    } finally {
      process.stderr.write = orig;
    }
    assert.match(err, /huge\.moebench is 1024\.0 MiB; a notebook may be at most 256\.0 MiB/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
