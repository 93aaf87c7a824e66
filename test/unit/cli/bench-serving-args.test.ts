import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planFromArgs } from '../../../src/cli/commands/bench';

// Command lines as people paste them from SGLang's docs, the PD + large-EP blog and issues
// (`python3 -m sglang.bench_serving` dropped): `moebench bench` must take them as they are.
const strip = (line: string): string[] => line.replace(/^python3? -m sglang\.bench_serving\s+/, '').trim().split(/\s+/);

function plan(line: string): Exclude<ReturnType<typeof planFromArgs>, 'help'> {
  const p = planFromArgs(strip(line));
  assert.notEqual(p, 'help');
  return p as Exclude<ReturnType<typeof planFromArgs>, 'help'>;
}

test('the PD + large-EP blog decode command (argparse abbreviations --random-input / --random-output)', () => {
  const p = plan('python3 -m sglang.bench_serving --backend sglang --host 127.0.0.1 --port 8000 --dataset-name random --num-prompts 20000 --random-input 2000 --random-output 100 --random-range-ratio 1 --max-concurrency 6144');
  assert.equal(p.configs.length, 1);
  const c = p.configs[0].config;
  assert.equal(c.url, 'http://127.0.0.1:8000');
  assert.equal(c.api, 'generate');
  assert.equal(c.dataset.inputLen, 2000);
  assert.equal(c.dataset.outputLen, 100);
  assert.equal(c.dataset.rangeRatio, 1);
  assert.equal(c.maxConcurrency, 6144);
});

test("bench_serving's seed default (1), not another one", () => {
  assert.equal(plan('--backend sglang --dataset-name random --num-prompts 10').configs[0].config.dataset.seed, 1);
});

test('common bench_serving flags are accepted: implemented ones act, the others say why they change nothing', () => {
  const p = plan('python3 -m sglang.bench_serving --backend sglang --dataset-name random --num-prompts 100 --random-input-len 1024 --random-output-len 512 --request-rate 8 --tokenizer deepseek-ai/DeepSeek-V3 --flush-cache --disable-tqdm --disable-stream --output-details --pd-separated --apply-chat-template --tokenize-prompt --profile --lora-name adapter-a adapter-b --return-logprob'.replace('adapter-a adapter-b', 'adapter-a --lora-name adapter-b'));
  assert.equal(p.quiet, true, '--disable-tqdm silences progress');
  assert.equal(p.flushCache, true);
  const body = p.configs[0].config.payload.extraBody;
  assert.deepEqual(body, { return_logprob: true, lora_path: 'adapter-a' });
  for (const flag of ['tokenizer', 'disable-stream', 'output-details', 'pd-separated', 'apply-chat-template', 'tokenize-prompt', 'profile']) {
    assert.ok(p.notices.some((n) => n.startsWith(`--${flag} has no effect here: `)), `--${flag} is explained`);
  }
  assert.ok(p.notices.some((n) => n.startsWith('--lora-name: every request uses adapter-a')));
});

test('snake_case and --flag=value spellings work too', () => {
  const p = plan('--backend=sglang-oai --dataset_name=random --random_input_len=256 --num_prompts=5');
  assert.equal(p.configs[0].config.api, 'completions');
  assert.equal(p.configs[0].config.dataset.inputLen, 256);
  assert.equal(p.configs[0].config.dataset.numPrompts, 5);
});

test("bench_serving's mmmu dataset name is refused with the reason; mooncake is replayed from a local file (no download)", () => {
  assert.throws(() => planFromArgs(strip('--dataset-name mooncake')), /--dataset-name mooncake needs --dataset-path FILE/);
  assert.throws(() => planFromArgs(strip('--dataset-name mmmu')), /mmmu.*image/i);
});
