import type { Cluster } from '../../launch/types';
import { CommandFailedError } from '../../util/errors';
import { ExpertDumpError, parseExpertDump, type ExpertDump } from './dump';
import { expertDumpConverterArgv } from './dump-converter';

/**
 * SGLang's recorder endpoints (http_server.py; GET or POST, plain-text 200). `start` clears the
 * previous record; `dump` writes a file on the rank-0 host and resets the recorder.
 */
export const EXPERT_RECORDER_PATHS = {
  start: '/start_expert_distribution_record',
  stop: '/stop_expert_distribution_record',
  dump: '/dump_expert_distribution_record',
} as const;

export type RecorderAction = keyof typeof EXPERT_RECORDER_PATHS;

export interface RecorderCallOptions {
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
  timeoutMs?: number;
  /** endpoint name for error messages */
  endpoint?: string;
}

export async function callExpertRecorder(baseUrl: string, action: RecorderAction, options: RecorderCallOptions = {}): Promise<string> {
  const url = baseUrl.replace(/\/+$/, '') + EXPERT_RECORDER_PATHS[action];
  const fetchImpl = options.fetchImpl ?? fetch;
  const signals = [AbortSignal.timeout(options.timeoutMs ?? 60_000)];
  if (options.signal) signals.push(options.signal);
  const res = await fetchImpl(url, { method: 'POST', signal: AbortSignal.any(signals) });
  const body = await res.text();
  if (!res.ok) {
    const notConfigured = /expert_distribution_recorder_mode/.test(body);
    throw new ExpertDumpError(
      `${action} expert-distribution record failed on ${options.endpoint ?? baseUrl}: HTTP ${res.status} ${body.trim().slice(0, 300)}`,
      {},
      notConfigured
        ? 'Start the server with --expert-distribution-recorder-mode stat (or --enable-eplb) to record expert load.'
        : 'Check the server log; older SGLang builds may not have this endpoint.',
    );
  }
  return body;
}

export const startExpertRecord = (baseUrl: string, o?: RecorderCallOptions) => callExpertRecorder(baseUrl, 'start', o);
export const stopExpertRecord = (baseUrl: string, o?: RecorderCallOptions) => callExpertRecorder(baseUrl, 'stop', o);
export const dumpExpertRecord = (baseUrl: string, o?: RecorderCallOptions) => callExpertRecorder(baseUrl, 'dump', o);

export interface FetchDumpOptions {
  /** SGLANG_EXPERT_DISTRIBUTION_RECORDER_DIR on that node (default /tmp) */
  dir?: string;
  epSize?: number;
  /** send per-pass GPU loads for at most this many passes (0 = only sums) */
  maxPerPass?: number;
  /** the python that has torch (the server's own venv) */
  python?: string;
  /** refuse a dump older than this (a stale file from an earlier run) */
  maxAgeSec?: number;
  signal?: AbortSignal;
}

/** Convert the newest dump on the rank-0 node to JSON there and bring it back. */
export async function fetchExpertDump(cluster: Cluster, node: string, options: FetchDumpOptions = {}): Promise<ExpertDump> {
  const argv = expertDumpConverterArgv({ dir: options.dir, epSize: options.epSize, maxPerPass: options.maxPerPass, python: options.python });
  const r = await cluster.exec(node, argv, { signal: options.signal, captureLimitBytes: 64 << 20 });
  const out = r.stdout.trim();
  if (r.exitCode !== 0 && !out.startsWith('{')) {
    throw new CommandFailedError(
      `Converting the expert dump on ${node} failed (exit ${r.exitCode ?? r.signal ?? '?'}): ${r.stderr.trim().split('\n').pop() ?? ''}`,
      { node },
      /No module named 'torch'/.test(r.stderr) ? 'Point `python` at the interpreter SGLang runs with (it has torch).' : 'Run the dump command on the node by hand to see the full error.',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(out);
  } catch {
    throw new ExpertDumpError(`The expert dump converter on ${node} printed something that is not JSON`, { node });
  }
  const dump = parseExpertDump(json, { node });
  if (options.maxAgeSec !== undefined && dump.ageSec !== undefined && dump.ageSec > options.maxAgeSec) {
    throw new ExpertDumpError(
      `The newest expert dump on ${node} is ${Math.round(dump.ageSec)} s old: it is from an earlier run`,
      { node },
      'Check that the dump call reached the server, and that SGLANG_EXPERT_DISTRIBUTION_RECORDER_DIR matches `dir`.',
    );
  }
  return dump;
}
