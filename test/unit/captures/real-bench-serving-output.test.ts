/**
 * What SGLang's real bench_serving.py (@50a61368, unmodified, under Debian's python3) wrote and
 * printed when run against our emulator (test/fixtures/captures/README.md: commands, versions, the
 * one stub). The JSONL goes through our importer and every number it shares with the tool's own
 * printed summary must read the same at the two decimals the tool prints; what the file does not
 * hold stays empty instead of being made up.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { importText } from '../../../src/core/results/importers';
import { failureHint, refusedOptions } from '../../../src/core/runners/node-run';

const DIR = path.join(__dirname, '..', '..', 'fixtures', 'captures', 'sglang-bench-serving-50a61368');
const read = (name: string) => readFileSync(path.join(DIR, name));
const SHA256: Record<string, string> = {
  'result.jsonl': '10f7a29f0d49945bde9bec09e67f566961bd866c55cd8f204b2694ea52e2e49e',
  'stdout-1-rate-inf.txt': '34a97a3b2141edcc3e0cc9dd765ef79a0b4c999f33083befa4d5d52d7b752f60',
  'stdout-2-rate-16.txt': 'ec00e42a2006abcb4b15e01acb14ff472ac8e4cae1724a1321c5a3fa6d274f95',
  'argv-refused.txt': '62b2930d8b18738f519d7972cf7c7ae06ab4da8e6c28efbaabb5a717466a641a',
};
const STDOUT = ['stdout-1-rate-inf.txt', 'stdout-2-rate-16.txt'];

/** the "Label:   value" lines of the tool's result block */
function printedSummary(text: string): Map<string, string> {
  const block = text.slice(text.indexOf(' Serving Benchmark Result '));
  const out = new Map<string, string>();
  for (const line of block.split('\n')) {
    const m = /^(.+?):\s+(\S+)\s*$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

const fixed2 = (v: number | null | undefined) => (v === null || v === undefined ? 'missing' : v.toFixed(2));

describe('real SGLang bench_serving.py @50a61368 output, run against the emulator', () => {
  test('the fixtures are the recorded bytes (sha256 in the README)', () => {
    for (const [name, sha] of Object.entries(SHA256)) assert.equal(createHash('sha256').update(read(name)).digest('hex'), sha, name);
  });

  const runs = importText(read('result.jsonl').toString('utf8'), 'result.jsonl');

  test('two appended lines become two steps of one sweep: all at once, then rate 16', () => {
    assert.equal(runs.length, 2);
    assert.deepEqual(
      runs.map((r) => [r.meta.source, r.meta.step?.label, r.meta.step?.requestRate]),
      [
        ['sglang-bench-serving', 'all at once', 'inf'],
        ['sglang-bench-serving', 'rate 16', 16],
      ],
    );
  });

  for (const [i, file] of STDOUT.entries()) {
    test(`step ${i + 1}: every number the file shares with the printed summary (${file}) reads the same`, () => {
      const printed = printedSummary(read(file).toString('utf8'));
      const s = runs[i].result.summary;
      assert.equal(String(s.completed), printed.get('Successful requests'));
      assert.equal(String(s.totalInputTokens), printed.get('Total input tokens'));
      assert.equal(String(s.totalOutputTokens), printed.get('Total generated tokens'));
      assert.equal(String(runs[i].meta.extras['total_output_tokens_retokenized']), printed.get('Total generated tokens (retokenized)'));
      assert.equal(fixed2(s.durationSec), printed.get('Benchmark duration (s)'));
      // request and input throughput are printed but not written by this version: derived by its definitions
      assert.equal(fixed2(s.requestThroughput), printed.get('Request throughput (req/s)'));
      assert.equal(fixed2(s.inputThroughput), printed.get('Input token throughput (tok/s)'));
      assert.equal(fixed2(s.outputThroughput), printed.get('Output token throughput (tok/s)'));
      assert.equal(fixed2(s.e2eMs.mean), printed.get('Mean E2E Latency (ms)'));
      assert.equal(fixed2(s.e2eMs.median), printed.get('Median E2E Latency (ms)'));
      assert.equal(fixed2(s.ttftMs.median), printed.get('Median TTFT (ms)'));
      assert.equal(fixed2(s.itlMs.median), printed.get('Median ITL (ms)'));
      // printed only: this version's line has no mean/P99 TTFT, TPOT or mean ITL, and none is invented
      assert.ok(printed.has('Mean TTFT (ms)') && printed.has('P99 TTFT (ms)') && printed.has('Mean TPOT (ms)'));
      assert.equal(s.ttftMs.mean, null);
      assert.deepEqual(s.ttftMs.p, {});
      assert.equal(s.tpotMs.mean, null);
      assert.equal(s.itlMs.mean, null);
    });
  }

  test('--backend sglang of this version drove /v1/completions (its request function), and the import says so', () => {
    for (const r of runs) {
      assert.equal(r.result.summary.api, 'completions');
      assert.equal(r.meta.target.api, 'completions');
      assert.ok(r.meta.definitionNotes.some((n) => /sent --backend sglang to \/v1\/completions/.test(n)));
      assert.ok(r.meta.definitionNotes.some((n) => /no request_throughput: it is completed \/ duration/.test(n)));
    }
  });

  test('given the flags our runner passes, this version refuses them; the runner hint names them and the way out', () => {
    const refusal = read('argv-refused.txt').toString('utf8');
    assert.match(refusal, /bench_serving\.py: error: unrecognized arguments: --output-details --tag real-old/);
    assert.deepEqual(refusedOptions(refusal), ['--output-details', '--tag']);
    const hint = failureHint('node2', refusal);
    assert.match(hint, /on node2 is older than the options MoE Bench passes: it does not know --output-details, --tag\./);
    assert.match(hint, /runner: builtin/);
    // a failure that is not an argparse refusal keeps the install/endpoint advice
    assert.match(failureHint('node2', '/usr/bin/python3: No module named sglang.bench_serving'), /installed on the node/);
  });
});
