import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { NotebookFormatError } from '../util/errors';

/**
 * Largest notebook read: outputs hold summaries and down-sampled series (raw records live in the
 * run store), so real notebooks are a few MiB. A 1 GB file is refused before it is read, with
 * its name and size, instead of exhausting memory first.
 */
export const MAX_NOTEBOOK_BYTES = 256 * 1024 * 1024;

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** The file's bytes, after checking its size on the open descriptor (no race with a swap). */
export function readNotebookFile(file: string, maxBytes = MAX_NOTEBOOK_BYTES): Buffer {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) {
      throw new NotebookFormatError(`${file} is ${mib(size)}; a notebook may be at most ${mib(maxBytes)}`, { file }, 'This is not a notebook MoE Bench wrote (outputs keep summaries; raw records live in the run store). Check the file; nothing was read.');
    }
    const buf = Buffer.alloc(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, buf, at, size - at, at);
      if (n === 0) break;
      at += n;
    }
    return buf.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}
