import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { RequestRecord } from './record';
import type { ValidityCheck } from './validity';
import type { RunSummary } from './summary';
import { counterIncrease } from '../telemetry/server/family-window';
import { serverRole, type ServerWindow } from './ttft-decomposition';

/**
 * The validity gate: a run whose numbers must not be reported as a result. Separate from the
 * validity badges (which warn): any reason here makes the run invalid, its cell fail and the CLI
 * exit non-zero. Reasons come from Slurm-recipe users' reports of "successful" runs that
 * generated nothing, and from PD runs whose KV transfers failed while the client saw short answers.
 */
export interface GateReason {
  id: 'zero-tokens' | 'kv-transfer-failures' | 'aborted-requests' | 'token-mismatch';
  text: string;
  detail: string;
}

export interface RunGate {
  valid: boolean;
  reasons: GateReason[];
  /** facts the gate looked at, for the report */
  facts: { clientOutputTokens: number; serverOutputTokens: number | null; kvFailures: number | null; abortedRequests: number | null };
}

export interface GateOptions {
  /** relative disagreement between client- and server-counted output tokens that fails the run (default 0.05) */
  tokenMismatchFraction?: number;
  /** warmup requests that hit the server inside the scrape window but are not in `records` */
  warmupRequests?: number;
  /** the run was cancelled by the user: aborts are expected then */
  cancelled?: boolean;
}

export function runGate(summary: RunSummary, records: readonly RequestRecord[], windows: readonly ServerWindow[], options: GateOptions = {}): RunGate {
  const reasons: GateReason[] = [];
  const clientTokens = summary.totalOutputTokens;
  if (summary.completed === 0 || clientTokens === 0) {
    reasons.push({
      id: 'zero-tokens',
      text: 'generated zero tokens',
      detail: `${summary.completed} requests completed, ${clientTokens} output tokens, ${summary.failed} failed. A server that answers every request empty (wrong model path, a crashed decode rank behind a router) is not a result.`,
    });
  }
  const has = windows.length > 0;
  let kvFailures: number | null = null;
  let aborted: number | null = null;
  let serverTokens: number | null = null;
  if (has) {
    kvFailures = 0;
    const parts: string[] = [];
    for (const [name, what] of [
      ['sglang:num_bootstrap_failed_reqs', 'bootstrap failures'],
      ['sglang:num_transfer_failed_reqs', 'transfer failures'],
      ['sglang:kv_transfer_timeouts', 'KV timeouts'],
    ] as const) {
      const n = windows.reduce((a, w) => a + counterIncrease(w.before, w.after, name), 0);
      if (n > 0) parts.push(`${n} ${what}`);
      kvFailures += n;
    }
    if (kvFailures > 0) reasons.push({ id: 'kv-transfer-failures', text: `KV transfer failed (${kvFailures})`, detail: `${parts.join(', ')} reported by the servers during the run (num_bootstrap_failed_reqs_total, num_transfer_failed_reqs_total, kv_transfer_timeouts_total).` });
    aborted = windows.reduce((a, w) => a + counterIncrease(w.before, w.after, 'sglang:num_aborted_requests'), 0);
    if (aborted > 0 && !options.cancelled) reasons.push({ id: 'aborted-requests', text: `${aborted} aborted requests`, detail: `The servers counted ${aborted} aborted requests (num_aborted_requests_total) while the run was not cancelled.` });
    // tokens are generated where the answer streams from: decode servers in PD, else every server
    const decodeSide = windows.filter((w) => ['decode', 'unified'].includes(serverRole(w)));
    const counted = decodeSide.length > 0 ? decodeSide : windows;
    const exported = counted.some((w) => (w.after.byName.get('sglang:generation_tokens_total') ?? []).length > 0);
    if (exported) {
      serverTokens = counted.reduce((a, w) => a + counterIncrease(w.before, w.after, 'sglang:generation_tokens'), 0);
      const maxPerRequest = records.reduce((a, r) => Math.max(a, r.outputTokens ?? r.maxTokens), 0);
      const slack = (options.warmupRequests ?? 0) * maxPerRequest;
      const diff = serverTokens - clientTokens;
      const limit = Math.max(clientTokens, serverTokens) * (options.tokenMismatchFraction ?? 0.05);
      if (diff < -limit || diff > limit + slack) {
        reasons.push({
          id: 'token-mismatch',
          text: 'token counts disagree with the server',
          detail: `client counted ${clientTokens} output tokens, the servers' generation_tokens_total rose by ${serverTokens} (${((Math.abs(diff) / Math.max(1, clientTokens)) * 100).toFixed(1)}%; allowed ${((options.tokenMismatchFraction ?? 0.05) * 100).toFixed(0)}% plus ${slack} for warmups). Another client on the same servers, or a server counting what it did not send.`,
        });
      }
    }
  }
  return { valid: reasons.length === 0, reasons, facts: { clientOutputTokens: clientTokens, serverOutputTokens: serverTokens, kvFailures, abortedRequests: aborted } };
}

export const GATE_FILE = 'gate.json';

/** The stored verdict of a run (written by the bench cell beside meta.json) as validity checks, for reports. */
export async function gateChecks(runDir: string): Promise<ValidityCheck[]> {
  let text: string;
  try {
    text = await readFile(path.join(runDir, GATE_FILE), 'utf8');
  } catch {
    return [];
  }
  const data = JSON.parse(text) as { valid?: unknown; reasons?: unknown };
  if (data.valid !== false || !Array.isArray(data.reasons)) return [];
  return data.reasons
    .filter((r): r is { text: string; detail: string } => typeof r === 'object' && r !== null && typeof (r as { text?: unknown }).text === 'string')
    .map((r) => ({ id: 'server-gate' as const, level: 'error' as const, text: `INVALID: ${r.text}`, detail: typeof r.detail === 'string' ? r.detail : '' }));
}
