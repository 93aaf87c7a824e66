/**
 * A load thread: runs one shard of a load run (shard.ts) and talks to its owner (pool.ts) with
 * messages. Bundled as out/load-worker.js; under tsx the .ts file is loaded directly.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RunColumns } from '../metrics/columns';
import { runShard, type ShardConfig } from './shard';
import { WarmupFailedError } from './runner';
import type { ToShard } from './pool';

const port = parentPort;
if (!port) throw new Error('load-worker runs as a worker thread');
const abort = new AbortController();
let resolveStart: ((epoch: number) => void) | undefined;
port.on('message', (m: ToShard) => {
  if (m.type === 'start') resolveStart?.(m.epoch);
  else if (m.type === 'abort') abort.abort();
});

runShard(
  workerData as ShardConfig,
  {
    lines: (lines) => port.postMessage({ type: 'lines', lines }),
    progress: (progress) => port.postMessage({ type: 'progress', progress }),
    ready: () =>
      new Promise<number>((resolve) => {
        resolveStart = resolve;
        port.postMessage({ type: 'ready' });
      }),
  },
  abort.signal,
).then(
  (done) => port.postMessage({ type: 'done', done }, RunColumns.transferables(done.columns)),
  (err: unknown) => port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err), warmup: err instanceof WarmupFailedError }),
);
