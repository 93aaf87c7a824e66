import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { runGate } from '../../../src/core/metrics/run-gate';
import type { RunSummary } from '../../../src/core/metrics/summary';
import { parsePrometheusText } from '../../../src/core/telemetry/server/prometheus';
import type { ServerWindow } from '../../../src/core/metrics/ttft-decomposition';

const summary = (completed: number, tokens: number, failed = 0) => ({ completed, failed, totalOutputTokens: tokens }) as RunSummary;

function decodeWindow(before: Record<string, number>, after: Record<string, number>): ServerWindow {
  const text = (v: Record<string, number>) =>
    Object.entries(v)
      .map(([name, value]) => `# TYPE ${name} counter\n${name}_total{model_name="m",engine_type="decode"} ${value}\n`)
      .join('') + '# TYPE sglang:num_running_reqs gauge\nsglang:num_running_reqs{engine_type="decode"} 0\n';
  return { endpoint: 'decode@n1', before: parsePrometheusText(text(before)), after: parsePrometheusText(text(after)) };
}

test('a run that generated zero tokens is invalid even when every request "succeeded"', () => {
  const g = runGate(summary(100, 0), [], []);
  assert.equal(g.valid, false);
  assert.deepEqual(g.reasons.map((r) => r.id), ['zero-tokens']);
});

test('KV-transfer failures and aborted requests reported by the server make the run invalid', () => {
  const w = decodeWindow(
    { 'sglang:num_bootstrap_failed_reqs': 2, 'sglang:num_aborted_requests': 0, 'sglang:generation_tokens': 1000 },
    { 'sglang:num_bootstrap_failed_reqs': 5, 'sglang:num_aborted_requests': 4, 'sglang:generation_tokens': 2000 },
  );
  const g = runGate(summary(10, 1000), [], [w]);
  assert.equal(g.valid, false);
  assert.deepEqual(g.reasons.map((r) => r.id), ['kv-transfer-failures', 'aborted-requests']);
  assert.match(g.reasons[0].detail, /3 bootstrap failures/);
  // a user's cancel aborts requests: not a reason then
  assert.deepEqual(runGate(summary(10, 1000), [], [w], { cancelled: true }).reasons.map((r) => r.id), ['kv-transfer-failures']);
});

test('token counts that disagree with generation_tokens_total beyond 5% fail; warmups are allowed for', () => {
  const w = decodeWindow({ 'sglang:generation_tokens': 0 }, { 'sglang:generation_tokens': 1300 });
  assert.deepEqual(runGate(summary(10, 1000), [], [w]).reasons.map((r) => r.id), ['token-mismatch']);
  const records = [{ outputTokens: 100, maxTokens: 100 }] as never[];
  assert.equal(runGate(summary(10, 1000), records, [w], { warmupRequests: 3 }).valid, true);
  const close = decodeWindow({ 'sglang:generation_tokens': 0 }, { 'sglang:generation_tokens': 1030 });
  assert.equal(runGate(summary(10, 1000), [], [close]).valid, true);
});

test('a stored gate.json marks the run INVALID in reports (as an error-level validity check)', async () => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const { gateChecks, GATE_FILE } = await import('../../../src/core/metrics/run-gate');
  const dir = await mkdtemp(path.join(tmpdir(), 'gate-'));
  try {
    assert.deepEqual(await gateChecks(dir), [], 'no gate file: nothing to mark');
    const g = runGate(summary(10, 0), [], []);
    await writeFile(path.join(dir, GATE_FILE), JSON.stringify({ valid: g.valid, reasons: g.reasons, facts: g.facts }));
    const checks = await gateChecks(dir);
    assert.deepEqual(checks.map((c) => [c.id, c.level, c.text]), [['server-gate', 'error', 'INVALID: generated zero tokens']]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
