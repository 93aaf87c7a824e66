/**
 * Dispatch cost of the load runner alone (no sockets): an instant in-process client, 100k requests.
 * Plain: a closed loop of 64 over dataset rows (the hot path of every ordinary run). Sessions:
 * 1,000 sessions of 100 turns, 64 open at a time, no think time (each turn released by the
 * previous one's finish). Prints µs per request, best and median of 5 runs.
 * Run: node --import tsx scripts/bench-dispatch.ts
 */
import { LoadRun, type RequestSender } from '../src/core/load/runner';
import type { StreamResult } from '../src/core/load/accumulator';
import { SessionSchedule } from '../src/core/load/workloads/sessions';

const N = 100_000;
const rows = Array.from({ length: 1000 }, (_, i) => ({ prompt: 'x', promptLen: 1, outputLen: 1 + (i % 3) }));
const client: RequestSender = {
  send: async (): Promise<StreamResult> => ({ startAt: performance.now(), ok: true, lastLineMs: 1, chunkMs: [1], chunkChars: [1], chunkTokens: [-1], outputTokens: 1, promptTokens: 1, cachedTokens: 0, text: ' a' }),
  abortAll: () => undefined,
};
const allAtOnce = function* (): Generator<number> {
  for (;;) yield 0;
};

async function timed(make: () => LoadRun): Promise<string> {
  const us: number[] = [];
  for (let k = 0; k < 5; k++) {
    const run = make();
    const t = performance.now();
    await run.run();
    us.push(((performance.now() - t) * 1000) / N);
  }
  us.sort((a, b) => a - b);
  return `best ${us[0].toFixed(2)} µs, median ${us[2].toFixed(2)} µs per request`;
}

void (async () => {
  console.log(`plain closed loop (64):   ${await timed(() => new LoadRun({ rows, client, arrivals: allAtOnce(), count: N, maxConcurrency: 64, warmupRequests: 0, retainRecords: false }))}`);
  const sessions = Array.from({ length: 1000 }, (_, s) => ({ id: `s${s}`, turns: Array.from({ length: 100 }, () => ({ user: 'q', outputLen: 1 })) }));
  console.log(
    `sessions (64 open):       ${await timed(
      () =>
        new LoadRun({
          rows: [],
          sessions: new SessionSchedule({ kind: 'sessions', sessions, start: { kind: 'concurrency', sessions: 64 }, thinkTimeSec: { kind: 'constant', value: 0 }, seed: 1 }),
          client,
          arrivals: allAtOnce(),
          warmupRequests: 0,
          retainRecords: false,
        }),
    )}`,
  );
})();
