import type { SchedLogSample, SchedRank } from '../../schema';
import { BALANCEDNESS_HEAD, BATCH_HEAD, SGLANG_PREFIX } from './formats';

const ANCHORED_PREFIX = new RegExp(`^${SGLANG_PREFIX.source}`);

/** A parsed line without where/when it was received (the consumer adds those). */
export type SchedFields = Omit<SchedLogSample, 'kind' | 'tsMs' | 'endpoint' | 'node'>;

export type ParsedLogLine = { type: 'sched'; fields: SchedFields } | { type: 'other'; message: string; rank?: SchedRank; logTime?: string };

function ranksOf(tags: string): SchedRank {
  const rank: SchedRank = {};
  for (const m of tags.matchAll(/(DP|PP|TP|EP)(\d+)/g)) {
    const k = m[1].toLowerCase() as keyof SchedRank;
    rank[k] = Number(m[2]);
  }
  return rank;
}

type Target = keyof SchedFields;

/** key as printed -> field; `#prealloc-req` depends on the batch kind (see formats.ts) */
const KEYS: Record<string, Target | ((event: 'prefill' | 'decode') => Target)> = {
  '#new-seq': 'newSeqs',
  '#new-token': 'newTokens',
  '#cached-token': 'cachedTokens',
  '#token': 'usedTokens',
  '#full token': 'usedTokens',
  'token usage': 'tokenUsage',
  'full token usage': 'tokenUsage',
  'swa token usage': 'tokenUsage',
  '#running-req': 'runningReqs',
  '#queue-req': 'queueReqs',
  '#unbootstrapped-req': 'bootstrapQueueReqs',
  '#transferring-req': 'inflightReqs',
  '#inflight-req': 'inflightReqs',
  '#prealloc-req': (event) => (event === 'prefill' ? 'bootstrapQueueReqs' : 'preallocQueueReqs'),
  '#transfer-req': 'transferQueueReqs',
  '#retracted-req': 'retractedReqs',
  'pre-allocated usage': 'preallocatedUsage',
  'gen throughput (token/s)': 'genThroughputTokPerSec',
  'input throughput (token/s)': 'inputThroughputTokPerSec',
  'accept len': 'specAcceptLength',
  'accept rate': 'specAcceptRate',
};

const GRAPH_KEYS = new Set(['cuda graph', 'cpu graph', 'npu graph']);

function parseBatch(event: 'prefill' | 'decode', body: string, base: SchedFields): SchedFields {
  const out: SchedFields = { ...base, event };
  for (const part of body.split(/,\s*/)) {
    const i = part.indexOf(':');
    if (i <= 0) continue;
    const key = part.slice(0, i).trim();
    const raw = part.slice(i + 1).trim();
    if (GRAPH_KEYS.has(key)) {
      if (raw === 'True' || raw === 'False') out.cudaGraph = raw === 'True';
      continue;
    }
    const spec = KEYS[key];
    if (!spec) continue;
    const v = Number(raw.replace(/%$/, ''));
    if (raw === '' || !Number.isFinite(v)) continue;
    const target = typeof spec === 'function' ? spec(event) : spec;
    // hybrid models print both full and SWA usage; the fuller pool is the one that stalls
    if (target === 'tokenUsage' && out.tokenUsage !== undefined) out.tokenUsage = Math.max(out.tokenUsage, v);
    else (out as Record<string, unknown>)[target] = v;
  }
  return out;
}

function parseBalancedness(body: string, base: SchedFields): SchedFields {
  const out: SchedFields = { ...base, event: 'balancedness' };
  const averages: Record<string, number> = {};
  for (const m of body.matchAll(/(\w+)=([-\d.eE+]+)/g)) {
    const v = Number(m[2]);
    if (!Number.isFinite(v)) continue;
    if (m[1] === 'forward_pass_id') out.forwardPassId = v;
    else if (m[1] === 'current_pass_balancedness') out.balancedness = v;
    else {
      const avg = /^last_(\d+)_average_balancedness$/.exec(m[1]);
      if (avg) averages[avg[1]] = v;
    }
  }
  if (Object.keys(averages).length > 0) out.balancednessAverages = averages;
  return out;
}

/**
 * One line of a server's log. Anything that is not a scheduler batch or balancedness line
 * (start-up messages, HTTP access lines, tracebacks, a truncated line) comes back as `other`,
 * never as an error: the line is still the user's log.
 */
export function parseSchedulerLogLine(line: string): ParsedLogLine {
  let prefix = SGLANG_PREFIX.exec(line);
  let message = prefix ? line.slice(prefix.index + prefix[0].length) : line;
  // a log shipper (container runtime, the emulator's own logger) may stamp lines again in
  // front of SGLang's prefix: the innermost prefix is SGLang's, with the rank tags
  for (let inner = prefix ? ANCHORED_PREFIX.exec(message) : null; inner; inner = ANCHORED_PREFIX.exec(message)) {
    prefix = inner;
    message = message.slice(inner[0].length);
  }
  const rank = prefix ? ranksOf(prefix[2]) : {};
  const logTime = prefix ? prefix[1] : undefined;
  const base: SchedFields = { event: 'decode', rank };
  if (logTime !== undefined) base.logTime = logTime;
  const batch = BATCH_HEAD.exec(message);
  if (batch) {
    const event = batch[1] === 'Prefill' ? 'prefill' : 'decode';
    const fields = parseBatch(event, message.slice(batch[0].length), base);
    // a batch line without one readable value (cut off, garbled) carries no data: keep it as a log
    if (Object.keys(fields).length > Object.keys(base).length) return { type: 'sched', fields };
  }
  const bal = BALANCEDNESS_HEAD.exec(message);
  if (bal) {
    const fields = parseBalancedness(message.slice(bal[0].length), base);
    if (fields.balancedness !== undefined) return { type: 'sched', fields };
  }
  return { type: 'other', message, rank: prefix ? rank : undefined, logTime };
}

/** "decode-0 DP3" — the series key of a rank in charts */
export function rankLabel(endpoint: string, rank: SchedRank): string {
  if (rank.dp !== undefined) return `${endpoint} DP${rank.dp}`;
  if (rank.tp !== undefined) return `${endpoint} TP${rank.tp}`;
  return endpoint;
}
