import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Cluster } from '../../../launch/types';
import { CommandFailedError } from '../../../util/errors';

/**
 * Fixed script: trace files under `$1` (expanding a leading ~) modified at or after epoch second
 * `$2`, one path per line. Torch writes `*.trace.json.gz` (SGLang) or `*.pt.trace.json[.gz]`;
 * nsys writes `*.nsys-rep`.
 */
const LIST_SCRIPT = `d=$1; case $d in "~") d=$HOME;; "~/"*) d=$HOME/\${d#"~/"};; esac
[ -d "$d" ] || exit 0
find "$d" -maxdepth 3 -type f \\( -name '*.trace.json.gz' -o -name '*.trace.json' -o -name '*.nsys-rep' \\) -newermt "@$2" 2>/dev/null | sort`;

export async function listTraceFiles(cluster: Cluster, node: string, dir: string, sinceMs: number, signal?: AbortSignal): Promise<string[]> {
  const r = await cluster.exec(node, ['sh', '-c', LIST_SCRIPT, 'moebench-traces', dir, String(Math.floor(sinceMs / 1000) - 1)], { signal });
  if (r.exitCode !== 0) throw new CommandFailedError(`cannot list profiler traces in ${dir} on ${node}: ${r.stderr.trim().slice(0, 300)}`, { node, file: dir });
  return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

/**
 * A remote file's bytes over `cluster.exec` (works on every cluster kind; SSH, sim and local).
 * base64 keeps gzip bytes intact through a text channel; ~33 % more bytes on the wire.
 */
export async function fetchRemoteFile(cluster: Cluster, node: string, file: string, signal?: AbortSignal): Promise<Buffer> {
  const chunks: string[] = [];
  const r = await cluster.exec(node, ['base64', '--', file], { signal, captureLimitBytes: 4096, onStdout: (c) => chunks.push(c) });
  if (r.exitCode !== 0) throw new CommandFailedError(`cannot read ${file} on ${node}: ${r.stderr.trim().slice(0, 300)}`, { node, file });
  // a cluster that does not stream puts stdout only in the result
  const text = chunks.length > 0 ? chunks.join('') : r.stdout;
  return Buffer.from(text.replace(/\s+/g, ''), 'base64');
}

/** Copy remote traces into `<runDir>/profiles/<label>/`; returns the local paths relative to runDir. */
export async function copyTracesToRun(cluster: Cluster, node: string, files: readonly string[], runDir: string, label: string, signal?: AbortSignal): Promise<{ remote: string; local: string; bytes: number }[]> {
  const safe = label.replace(/[^A-Za-z0-9_.-]+/g, '_');
  const dir = path.join(runDir, 'profiles', safe);
  await mkdir(dir, { recursive: true });
  const out: { remote: string; local: string; bytes: number }[] = [];
  for (const f of files) {
    const data = await fetchRemoteFile(cluster, node, f, signal);
    const name = path.posix.basename(f).replace(/[^A-Za-z0-9_.-]+/g, '_');
    await writeFile(path.join(dir, name), data);
    out.push({ remote: f, local: path.posix.join('profiles', safe, name), bytes: data.length });
  }
  return out;
}
