/**
 * SGLang scheduler log lines as the emulator prints them: the v0.5.5+ format (see
 * src/core/telemetry/deep/sglang-log/formats.ts, which parses every supported version).
 * One line per DP rank, prefixed `[time DP<d> TP<t> EP<e>]` like SGLang's scheduler processes.
 */
export interface RankPrefixShape {
  dpSize: number;
  tpSize: number;
  epSize: number;
  enableDpAttention: boolean;
}

function stamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** SGLang's logger prefix for the scheduler of DP rank `rank` (its first TP rank) */
export function schedulerPrefix(shape: RankPrefixShape, rank: number, now = new Date()): string {
  const tpPerDp = Math.max(1, Math.floor(shape.tpSize / Math.max(1, shape.dpSize)));
  const tpRank = rank * tpPerDp;
  let tags = '';
  if (shape.enableDpAttention && shape.dpSize > 1) tags += ` DP${rank}`;
  if (shape.tpSize > 1) tags += ` TP${tpRank}`;
  if (shape.epSize > 1) tags += ` EP${tpRank}`;
  return `[${stamp(now)}${tags}]`;
}

export interface DecodeLogFields {
  runningReqs: number;
  usedTokens: number;
  tokenUsage: number;
  genThroughput: number;
  queueReqs: number;
  cudaGraph: boolean;
  /** PD decode only */
  pd?: { preallocatedUsage: number; preallocReqs: number; transferReqs: number; retractedReqs: number };
}

export function decodeBatchLine(f: DecodeLogFields): string {
  let msg = `Decode batch, #running-req: ${f.runningReqs}, #token: ${f.usedTokens}, token usage: ${f.tokenUsage.toFixed(2)}, `;
  if (f.pd) msg += `pre-allocated usage: ${f.pd.preallocatedUsage.toFixed(2)}, #prealloc-req: ${f.pd.preallocReqs}, #transfer-req: ${f.pd.transferReqs}, #retracted-req: ${f.pd.retractedReqs}, `;
  return `${msg}cuda graph: ${f.cudaGraph ? 'True' : 'False'}, gen throughput (token/s): ${f.genThroughput.toFixed(2)}, #queue-req: ${f.queueReqs}, `;
}

export interface PrefillLogFields {
  newSeqs: number;
  newTokens: number;
  cachedTokens: number;
  tokenUsage: number;
  runningReqs: number;
  queueReqs: number;
  /** PD prefill only */
  pd?: { bootstrapReqs: number; inflightReqs: number; inputThroughput: number };
}

export function prefillBatchLine(f: PrefillLogFields): string {
  let msg = `Prefill batch, #new-seq: ${f.newSeqs}, #new-token: ${f.newTokens}, #cached-token: ${f.cachedTokens}, token usage: ${f.tokenUsage.toFixed(2)}, #running-req: ${f.runningReqs}, #queue-req: ${f.queueReqs}, `;
  if (f.pd) msg += `#prealloc-req: ${f.pd.bootstrapReqs}, #inflight-req: ${f.pd.inflightReqs}, input throughput (token/s): ${f.pd.inputThroughput.toFixed(2)}, `;
  return msg;
}

export function balancednessLine(passId: number, current: number, averages: readonly [number, number][]): string {
  return `[Expert Balancedness] forward_pass_id=${passId} current_pass_balancedness=${current.toFixed(3)} ${averages.map(([n, v]) => `last_${n}_average_balancedness=${v.toFixed(3)} `).join('')} gpu_physical_count_sum=0`;
}
