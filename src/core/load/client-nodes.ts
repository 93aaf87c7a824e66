/**
 * Client nodes over SSH: for each node, check its Node.js, copy the bundled CLI (cli.js and
 * load-worker.js) over SFTP into a per-run folder, start `node cli.js load-shard` with its stdin
 * kept open, and hand back a ShardLink (remote-shards.ts). Afterwards only the files we copied and
 * the folder we made are removed.
 */
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamExec, StreamExecOptions } from '../launch/ssh/ssh-stream-exec';
import type { ExecOptions, ExecResult } from '../launch/types';
import { MoeBenchError } from '../util/errors';
import type { ShardLink } from './remote-shards';
import { decodeMessage, encodeMessage, LineSplitter, type NodeMessage } from './shard-protocol';

/** What a cluster must offer to host client shards (SshCluster does). */
export interface ClientNodeHost {
  exec(node: string, argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  writeFile(node: string, remotePath: string, data: Buffer | string, options?: { mode?: number; signal?: AbortSignal }): Promise<void>;
  execStream(node: string, argv: readonly string[], options: StreamExecOptions): Promise<StreamExec>;
}

export function isClientNodeHost(x: unknown): x is ClientNodeHost {
  const o = x as Partial<ClientNodeHost> | undefined;
  return typeof o?.exec === 'function' && typeof o.writeFile === 'function' && typeof o.execStream === 'function';
}

/** A bench cell's `clients:` section, resolved. */
export interface ClientNodesSpec {
  nodes: readonly string[];
  /** load threads per node */
  workers: number;
  /** the Node.js binary on the nodes: a command name or an absolute path */
  nodeBinary: string;
}

/** Node.js a client node needs: the bundle targets node20 (worker threads, fetch-free sockets) */
export const MIN_NODE_MAJOR = 20;

export class ClientNodeError extends MoeBenchError {}

/** A command name or absolute path, nothing a shell (or `node` option parsing) could read otherwise. */
export const NODE_BINARY_PATTERN = /^(?:\/[A-Za-z0-9._+@-]+)+$|^[A-Za-z0-9_][A-Za-z0-9._+@-]*$/;

/**
 * out/cli.js and out/load-worker.js beside the running bundle (the extension and the CLI live in
 * out/). Running from TypeScript (tests, scripts under tsx) they are built from this tree once per
 * process, so a node never gets a stale out/ from an older build.
 */
export function bundledCliDir(): Promise<string> {
  if (existsSync(join(__dirname, 'cli.js')) && existsSync(join(__dirname, 'load-worker.js'))) return Promise.resolve(__dirname);
  if (!__filename.endsWith('.ts')) {
    return Promise.reject(new ClientNodeError('Client nodes need the bundled CLI (cli.js and load-worker.js beside the extension), and it was not found', {}, 'Reinstall the extension, or run `npm run build`.'));
  }
  devBundle ??= buildDevBundle();
  return devBundle;
}

let devBundle: Promise<string> | undefined;

async function buildDevBundle(): Promise<string> {
  const root = join(__dirname, '..', '..', '..');
  // a computed name: the bundler must not pull esbuild into the shipped bundles
  const esbuildModule = 'esbuild';
  const esbuild = (await import(esbuildModule)) as typeof import('esbuild');
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
  const dir = await mkdtemp(join(tmpdir(), 'moebench-client-bundle-'));
  await esbuild.build({
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
    external: ['vscode', 'cpu-features', '*.node'],
    mainFields: ['module', 'main'],
    define: { __MOEBENCH_VERSION__: JSON.stringify(pkg.version) },
    entryPoints: { cli: join(root, 'src/cli/main.ts'), 'load-worker': join(root, 'src/core/load/worker-entry.ts') },
    outdir: dir,
  });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `node --version` on the node, or a clear error naming it */
export async function checkNodeVersion(host: ClientNodeHost, node: string, nodeBinary: string, signal?: AbortSignal): Promise<string> {
  let r: ExecResult;
  try {
    r = await host.exec(node, [nodeBinary, '--version'], { signal, captureLimitBytes: 4096 });
  } catch (err) {
    throw new ClientNodeError(`Client node ${node}: could not run ${nodeBinary} --version (${err instanceof Error ? err.message : String(err)})`, { node, field: 'clients.node' }, undefined, { cause: err });
  }
  const version = r.stdout.trim();
  const m = /^v(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (r.exitCode !== 0 || !m) {
    const why = r.exitCode === 127 ? 'not found' : `exit code ${r.exitCode}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').slice(-1)[0]}` : ''}`;
    throw new ClientNodeError(`Client node ${node} has no usable Node.js at "${nodeBinary}" (${why})`, { node, field: 'clients.node' }, `Install Node.js ${MIN_NODE_MAJOR} or newer on ${node}, or set clients.node to its path (e.g. /opt/node/bin/node).`);
  }
  if (Number(m[1]) < MIN_NODE_MAJOR) {
    throw new ClientNodeError(`Client node ${node} has Node.js ${version} at "${nodeBinary}"; client shards need ${MIN_NODE_MAJOR} or newer`, { node, field: 'clients.node' }, `Install Node.js ${MIN_NODE_MAJOR}+ on ${node}, or point clients.node at a newer one.`);
  }
  return version;
}

const BUNDLE_FILES = ['cli.js', 'load-worker.js'];

/** An open client node: its link, and the cleanup of what was put there. */
export interface ClientNodeSession {
  link: ShardLink;
  nodeVersion: string;
  /** stops the shard if it still runs and removes the files and folder we made */
  dispose(): Promise<void>;
}

export interface OpenClientNodeOptions {
  nodeBinary: string;
  bundleDir?: string;
  /** where the per-run folder is made on the node (default: its $TMPDIR or /tmp) */
  parentDir?: string;
  signal?: AbortSignal;
  /** the shard's stderr (logs) */
  onLog?: (node: string, text: string) => void;
}

export async function openClientNode(host: ClientNodeHost, node: string, options: OpenClientNodeOptions): Promise<ClientNodeSession> {
  if (!NODE_BINARY_PATTERN.test(options.nodeBinary)) throw new ClientNodeError(`clients.node must be a command name or an absolute path (got ${JSON.stringify(options.nodeBinary)})`, { field: 'clients.node' });
  const nodeVersion = await checkNodeVersion(host, node, options.nodeBinary, options.signal);
  const bundleDir = options.bundleDir ?? (await bundledCliDir());
  const where = options.parentDir ? ['-p', options.parentDir, 'moebench-load.XXXXXXXX'] : ['-t', 'moebench-load.XXXXXXXX'];
  const made = await host.exec(node, ['mktemp', '-d', ...where], { signal: options.signal, captureLimitBytes: 4096 });
  const dir = made.stdout.trim();
  if (made.exitCode !== 0 || !dir.startsWith('/') || dir.includes('\n')) throw new ClientNodeError(`Client node ${node}: could not make a folder for the load shard (${made.stderr.trim() || `exit ${made.exitCode}`})`, { node });
  const copied: string[] = [];
  const cleanup = async (): Promise<void> => {
    // only what we copied, then the folder if it is empty: never a recursive delete of a path
    if (copied.length) await host.exec(node, ['rm', '-f', '--', ...copied]).catch(() => undefined);
    await host.exec(node, ['rmdir', '--', dir]).catch(() => undefined);
  };
  let stream: StreamExec;
  const state: { onMessage?: (m: NodeMessage) => void; onEnd?: (err?: Error) => void; early: NodeMessage[] } = { early: [] };
  try {
    for (const f of BUNDLE_FILES) {
      const remote = `${dir}/${f}`;
      await host.writeFile(node, remote, await readFile(join(bundleDir, f)), { mode: 0o644, signal: options.signal });
      copied.push(remote);
    }
    const lines = new LineSplitter((line) => {
      let m: NodeMessage;
      try {
        m = decodeMessage<NodeMessage>(line);
      } catch {
        options.onLog?.(node, `(not protocol) ${line}\n`);
        return;
      }
      if (state.onMessage) state.onMessage(m);
      else state.early.push(m);
    });
    stream = await host.execStream(node, [options.nodeBinary, `${dir}/cli.js`, 'load-shard'], {
      onStdout: (chunk) => lines.push(chunk),
      onStderr: (chunk) => options.onLog?.(node, chunk),
      // no signal: a cancel goes through the protocol (`abort`), so the shard returns what it has;
      // RemoteShardRun kills it only if it does not answer
    });
  } catch (err) {
    await cleanup();
    throw err;
  }
  let ended = false;
  const endedPromise = stream.done.then(
    (r) => {
      ended = true;
      state.onEnd?.(r.exitCode === 0 ? undefined : new Error(`the load-shard process exited with ${r.exitCode ?? r.signal}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
    },
    (err: unknown) => {
      ended = true;
      state.onEnd?.(err instanceof Error ? err : new Error(String(err)));
    },
  );
  const link: ShardLink = {
    node,
    send: (m) => stream.write(encodeMessage(m)),
    listen(onMessage, onEnd) {
      state.onMessage = onMessage;
      state.onEnd = onEnd;
      for (const m of state.early.splice(0)) onMessage(m);
    },
    kill: () => stream.kill(),
  };
  return {
    link,
    nodeVersion,
    async dispose() {
      if (!ended) {
        stream.end();
        await stream.kill();
      }
      await endedPromise;
      await cleanup();
    },
  };
}

/** What runBenchmark needs to drive a run from client nodes. */
export interface ClientNodesContext extends ClientNodesSpec {
  host: ClientNodeHost;
  /** the server as the client nodes reach it (an in-cluster address, not this machine's forward) */
  url: string;
  /** where cli.js and load-worker.js are (default: bundledCliDir()) */
  bundleDir?: string;
  /** where the per-run folders are made on the nodes (default: their $TMPDIR or /tmp) */
  parentDir?: string;
  onLog?: (node: string, text: string) => void;
}

/** Opens every client node (in parallel); if one fails, the ones already open are cleaned up. */
export async function openClientNodes(ctx: ClientNodesContext, signal?: AbortSignal): Promise<ClientNodeSession[]> {
  if (ctx.nodes.length === 0) throw new ClientNodeError('clients.nodes is empty', { field: 'clients.nodes' });
  if (new Set(ctx.nodes).size !== ctx.nodes.length) throw new ClientNodeError('clients.nodes lists a node twice', { field: 'clients.nodes' }, 'Use clients.workers for more load threads on one node.');
  const bundleDir = ctx.bundleDir ?? (await bundledCliDir());
  const opened = await Promise.allSettled(ctx.nodes.map((n) => openClientNode(ctx.host, n, { nodeBinary: ctx.nodeBinary, bundleDir, parentDir: ctx.parentDir, signal, onLog: ctx.onLog })));
  const ok = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(ok.map((s) => s.dispose()));
    throw failed.reason;
  }
  return ok;
}
