/**
 * Shared pieces of the reliability suite: sizes (bounded for CI, full with
 * MOEBENCH_RELIABILITY_FULL=1), the figure lines every file prints, a canary directory that any
 * interpreted payload would write into, and a recorder program that writes down exactly the
 * argv and environment it was started with.
 */
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const FULL = process.env.MOEBENCH_RELIABILITY_FULL === '1';

/** `FIGURE name=value ...` on stdout, and the same line appended to the suite's figures file */
export function figure(values: Record<string, string | number>): void {
  const line = `FIGURE ${Object.entries(values)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : v}`)
    .join(' ')}`;
  console.log(line);
  const file = process.env.MOEBENCH_FIGURES_FILE;
  if (file) appendFileSync(file, `${line}\n`);
}

/** A YAML double-quoted scalar that decodes to exactly `s` (everything but printable ASCII escaped). */
export function yamlQuote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c >= 0x20 && c < 0x7f) out += s[i];
    else out += `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}

/**
 * A world-writable directory in /tmp (lab nodes run as another user and share /tmp): an
 * interpreted payload creates a file in it. `files()` lists what appeared.
 */
export function canaryDir(): { dir: string; file: string; files(): string[] } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'moebench-canary-'));
  chmodSync(dir, 0o777);
  return { dir, file: path.join(dir, 'pwned'), files: () => (existsSync(dir) ? readdirSync(dir) : []) };
}

/**
 * A program that writes its arguments (NUL-separated, after the first, which names the output
 * file) and its environment (`env -0`) and then renames the file into place, so a reader never
 * sees half of it. bash's printf '%s' writes each argument's bytes untouched.
 */
export function writeRecorder(dir: string): string {
  const file = path.join(dir, 'recorder');
  writeFileSync(file, '#!/bin/bash\nout=$1; shift\nprintf \'%s\\0\' "$@" > "$out.args.tmp"\nenv -0 > "$out.env.tmp"\nmv -f "$out.env.tmp" "$out.env"\nmv -f "$out.args.tmp" "$out.args"\n');
  chmodSync(file, 0o755);
  return file;
}

/** an executable-by-anyone scratch directory in /tmp */
export function sharedScratch(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 0o777);
  return dir;
}
