import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { createReadStream } from 'node:fs';
import type { RequestRecord } from '../metrics/record';
import { MoeBenchError } from '../util/errors';
import { RUN_FILES, RUN_SCHEMA_VERSION, type RunMeta, type RunResultFile } from './types';

export class RunStoreError extends MoeBenchError {}

/** `20250101-120000-decode-2k-a1b2`: sortable by time, readable, unique. */
export function newRunId(name: string, now = new Date()): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  const slug = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'run';
  return `${stamp}-${slug}-${randomBytes(2).toString('hex')}`;
}

export function clientHostInfo(): RunMeta['provenance']['client'] {
  const cpus = os.cpus();
  return { hostname: os.hostname(), platform: os.platform(), arch: os.arch(), cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', nodeVersion: process.version, pid: process.pid };
}

/** JSON with every stream time rounded to the microsecond: smaller files, no false precision. */
export { roundRecordTimes } from '../metrics/record-times';


export function serializeRecord(rec: RequestRecord): string {
  const r3 = (x: number): number => Math.round(x * 1000) / 1000;
  return JSON.stringify({
    ...rec,
    scheduledMs: r3(rec.scheduledMs),
    dispatchedMs: r3(rec.dispatchedMs),
    startMs: r3(rec.startMs),
    lastLineMs: r3(rec.lastLineMs),
    headersMs: rec.headersMs === undefined ? undefined : r3(rec.headersMs),
    chunkMs: rec.chunkMs.map(r3),
  });
}

/** Atomic JSON write: a crash mid-write leaves the previous file, never half of one. */
async function writeJson(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(value, null, 2) + '\n', 'utf8');
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw storeError(err, file);
  }
}

/** A write into the run store failed; a full disk says so, with what is still safe. */
function storeError(err: unknown, file: string): RunStoreError {
  const code = (err as NodeJS.ErrnoException).code;
  const full = code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';
  return new RunStoreError(
    full ? `The run store is full (${code}): writing ${path.basename(file)} failed` : `Writing ${path.basename(file)} failed: ${(err as Error).message}`,
    { file },
    full ? 'Free space on the disk that holds the run store (or choose another one); the request records already in requests.jsonl are intact.' : 'Check that the run store folder is writable.',
  );
}

/**
 * Writer of one run directory `<store>/<id>/`. meta.json is written at creation; each request is
 * appended to requests.jsonl as soon as it finishes (handed to the OS at once, so a crash of this
 * process loses nothing already received); summary.json at the end.
 */
export class RunWriter {
  private readonly requests: WriteStream;
  private streamError: Error | undefined;
  private closed = false;

  private constructor(
    readonly dir: string,
    private meta: RunMeta,
  ) {
    this.requests = createWriteStream(path.join(dir, RUN_FILES.requests), { flags: 'a' });
    this.requests.on('error', (err) => (this.streamError = err));
  }

  get id(): string {
    return this.meta.id;
  }

  static async create(storeDir: string, meta: Omit<RunMeta, 'schemaVersion' | 'status' | 'createdAt'> & { createdAt?: string }): Promise<RunWriter> {
    const dir = path.join(storeDir, meta.id);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new RunStoreError(`Cannot create the run directory: ${(err as Error).message}`, { file: dir }, 'Check that the notebook folder is writable.');
    }
    const full: RunMeta = { schemaVersion: RUN_SCHEMA_VERSION, status: 'running', createdAt: meta.createdAt ?? new Date().toISOString(), ...meta };
    await writeJson(path.join(dir, RUN_FILES.meta), full);
    return new RunWriter(dir, full);
  }

  appendRequest(rec: RequestRecord): void {
    if (this.closed) return;
    this.requests.write(serializeRecord(rec) + '\n');
  }

  /** lines already serialized by serializeRecord (a load thread's batch): one write */
  appendLines(lines: readonly string[]): void {
    if (this.closed || lines.length === 0) return;
    this.requests.write(lines.join('\n') + '\n');
  }

  /** resolves once every request appended so far is handed to the OS (then readRequests sees it) */
  drainRequests(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.requests.write('', () => resolve()));
  }

  async updateMeta(patch: Partial<RunMeta>): Promise<void> {
    this.meta = { ...this.meta, ...patch };
    await writeJson(path.join(this.dir, RUN_FILES.meta), this.meta);
  }

  async writeSummary(result: Omit<RunResultFile, 'schemaVersion'>): Promise<void> {
    // the first failure is the one to report (a full disk fails requests.jsonl before summary.json)
    if (this.streamError) throw storeError(this.streamError, path.join(this.dir, RUN_FILES.requests));
    await writeJson(path.join(this.dir, RUN_FILES.summary), { schemaVersion: RUN_SCHEMA_VERSION, ...result });
  }

  /** flush requests.jsonl and set the final status */
  async close(status: RunMeta['status'], error?: string): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await new Promise<void>((resolve) => this.requests.end(resolve));
    }
    await this.updateMeta({ status, finishedAt: new Date().toISOString(), ...(error ? { error } : {}) });
    if (this.streamError) throw storeError(this.streamError, path.join(this.dir, RUN_FILES.requests));
  }
}

export async function readRunMeta(runDir: string): Promise<RunMeta> {
  return readJson<RunMeta>(path.join(runDir, RUN_FILES.meta));
}

export async function readRunResult(runDir: string): Promise<RunResultFile> {
  return readJson<RunResultFile>(path.join(runDir, RUN_FILES.summary));
}

/** Every request of a run, including a last line cut short by a crash (skipped). */
export async function readRequests(runDir: string): Promise<RequestRecord[]> {
  const file = path.join(runDir, RUN_FILES.requests);
  const out: RequestRecord[] = [];
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as RequestRecord);
    } catch {
      // a torn final line from a crash: everything before it is intact
    }
  }
  return out;
}

/** run ids in a store, oldest first */
export async function listRuns(storeDir: string): Promise<string[]> {
  try {
    const entries = await readdir(storeDir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function readJson<T>(file: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new RunStoreError(`Cannot read ${path.basename(file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file });
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new RunStoreError(`${path.basename(file)} is not valid JSON: ${(err as Error).message}`, { file });
  }
}
