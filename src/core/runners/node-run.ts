import type { Cluster, RankState } from '../launch/types';
import { CancelledError, CommandFailedError } from '../util/errors';
import { ToolOutputSplitter, type ToolProgress } from './progress';

/** Supervisor directory of benchmark runs on the nodes (relative paths below are from $HOME). */
export const RUNNER_BASE_DIR = '~/.moebench/bench-runs';
const RUNNER_REL_DIR = '.moebench/bench-runs';

/**
 * Fixed script: run the tool from $HOME, so the relative output path it is given lands in the
 * supervisor directory whatever the cluster's default working directory is.
 */
const IN_HOME = 'cd "$HOME" || exit 1; exec "$@"';
const CAT_IN_HOME = 'cd "$HOME" || exit 1; cat -- "$1"';

export interface NodeAttempt {
  /** the tool command (without the cd wrapper), e.g. python3 -m sglang.bench_serving ... */
  argv: string[];
  /** the result file, relative to $HOME on the node */
  outputFile: string;
  /** a failure that means "try the next attempt" (module missing), judged from the log */
  retryIf?: (log: string) => boolean;
}

export interface NodeRunOptions {
  cluster: Cluster;
  node: string;
  /** unique per run: the supervisor's deployment id */
  runId: string;
  /** process name on the node, unique within the run */
  name: string;
  signal: AbortSignal;
  onLine: (line: string) => void;
  onProgress: (p: ToolProgress) => void;
}

export interface NodeRunResult {
  text: string;
  argv: string[];
  outputFile: string;
  log: string;
}

/** relative directory for one process's files, under $HOME */
export function runnerRelDir(runId: string, name: string): string {
  return `${RUNNER_REL_DIR}/${runId}/${name}`;
}

const LOG_KEEP_CHARS = 64 * 1024;

/**
 * Run the benchmark tool on a node through its cluster's launcher (own process group, survives a
 * dropped connection), stream its output, wait for it to exit, and read its result file. The
 * attempts are tried in order while a failure says the tool is not there (module missing).
 */
export async function runToolOnNode(o: NodeRunOptions, attempts: readonly NodeAttempt[]): Promise<NodeRunResult> {
  let lastError: unknown;
  for (let k = 0; k < attempts.length; k++) {
    const a = attempts[k];
    const name = attempts.length > 1 ? `${o.name}-${k}` : o.name;
    let log = '';
    const splitter = new ToolOutputSplitter(
      (line) => {
        log = (log + line + '\n').slice(-LOG_KEEP_CHARS);
        o.onLine(line);
      },
      o.onProgress,
    );
    const state = await o.cluster.launcher.start({ node: o.node, deploymentId: o.runId, name, argv: ['sh', '-c', IN_HOME, 'moebench-bench', ...a.argv], baseDir: RUNNER_BASE_DIR });
    const followed = await o.cluster.launcher.follow(state, { onData: (text) => splitter.push(text), signal: o.signal }).catch(async (err: unknown) => {
      await stopQuietly(o.cluster, state);
      throw err;
    });
    splitter.end();
    if (!followed.complete) {
      await stopQuietly(o.cluster, state);
      throw new CancelledError(`The benchmark on ${o.node} was cancelled; its process group was stopped`);
    }
    const status = await o.cluster.launcher.status(state);
    const exitCode = status.state === 'exited' ? status.exitCode : null;
    if (exitCode !== 0) {
      const tail = log.split('\n').filter((l) => l.trim()).slice(-8).join('\n');
      lastError = new CommandFailedError(
        `${a.argv.slice(0, 3).join(' ')} on ${o.node} ${exitCode === null ? 'was killed' : `exited with status ${exitCode}`}${tail ? `:\n${tail}` : ''}`,
        { node: o.node },
        failureHint(o.node, log),
      );
      if (k + 1 < attempts.length && (a.retryIf?.(log) ?? false)) {
        o.onLine(`moebench: ${a.argv.slice(0, 3).join(' ')} is not available on ${o.node}; trying ${attempts[k + 1].argv.slice(0, 3).join(' ')}`);
        continue;
      }
      throw lastError;
    }
    const cat = await o.cluster.exec(o.node, ['sh', '-c', CAT_IN_HOME, 'moebench-cat', a.outputFile], { signal: o.signal, captureLimitBytes: 256 * 1024 * 1024 });
    if (cat.exitCode !== 0) {
      throw new CommandFailedError(`The benchmark on ${o.node} finished but its result file ~/${a.outputFile} cannot be read: ${cat.stderr.trim()}`, { node: o.node, file: a.outputFile }, 'The tool may have written it elsewhere; check its output above.');
    }
    return { text: cat.stdout, argv: a.argv, outputFile: a.outputFile, log };
  }
  throw lastError instanceof Error ? lastError : new CommandFailedError(`No benchmark command could run on ${o.node}`, { node: o.node });
}

/**
 * The options an argparse tool refused ("error: unrecognized arguments: --output-details --tag x"):
 * what an older bench_serving says to the flags we pass (SGLang's bench_serving.py @50a61368 has
 * no --output-details, --tag, --max-concurrency or --warmup-requests; its real refusal is in
 * test/fixtures/captures/sglang-bench-serving-50a61368/argv-refused.txt).
 */
export function refusedOptions(log: string): string[] {
  const m = /error: unrecognized arguments: ([^\n]+)/.exec(log);
  return m ? m[1].trim().split(/\s+/).filter((t) => t.startsWith('-')) : [];
}

/** What to do about a failed benchmark command, from what it printed. */
export function failureHint(node: string, log: string): string {
  const refused = refusedOptions(log);
  if (refused.length > 0) {
    return `The benchmark tool on ${node} is older than the options MoE Bench passes: it does not know ${refused.join(', ')}. Install a newer SGLang / vLLM release there, or use runner: builtin.`;
  }
  return 'Check that the benchmark tool is installed on the node (the Python next to SGLang / vLLM) and that the endpoint answers from there.';
}

async function stopQuietly(cluster: Cluster, state: RankState): Promise<void> {
  try {
    await cluster.launcher.stop(state, { graceMs: 3000 });
  } catch {
    // the node is unreachable: the process ends with its own run; nothing more to do here
  }
}
