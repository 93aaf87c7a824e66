import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { prepareRows, runBenchmark, type BenchmarkConfig, type BenchmarkOutcome } from '../../core/bench/benchmark';
import { DATASET_NAMES, type DatasetName } from '../../core/load/datasets';
import type { LiveRun } from '../../core/bench/benchmark';
import type { ApiKind } from '../../core/metrics/record';
import { BACKEND_NAMES, sglangJson, summaryTable, toCsv, toMarkdown } from '../../core/metrics/summary-table';
import type { SloSpec } from '../../core/metrics/summary';
import { describeError } from '../../core/util/errors';
import { redactHeaderArgs } from '../../core/util/redact';
import { TOOL_VERSION } from '../version';
import { idleTimeoutMs } from '../../core/load/idle-timeout';
import { workloadIssues, workloadSpecOf, type WorkloadFieldsIn } from '../../core/load/workloads/spec';
import { TRACE_FORMATS, type TraceFormat } from '../../core/load/workloads/trace-formats';
import type { DistributionInput } from '../../core/load/workloads/distribution';

const USAGE = `moebench bench — quick benchmark against a running endpoint (flags mirror sglang.bench_serving)

Usage: moebench bench --base-url http://127.0.0.1:30000 [options]

Target:
  --base-url, --url URL          server (default http://HOST:PORT)
  --host H --port P              default 127.0.0.1:30000
  --backend B                    sglang (/generate), sglang-oai (/v1/completions), sglang-oai-chat
                                 (/v1/chat/completions); vllm, vllm-chat also accepted
  --model M, --served-model-name M   model field for the OpenAI APIs (default: /v1/models)
  --header K=V                   extra request header (repeatable)
Workload:
  --dataset-name D               ${DATASET_NAMES.join(' | ')} (default random)
  --dataset-path FILE            for sharegpt, gsm8k, mmlu, alpaca-eval, jsonl
  --num-prompts N                default 1000
  --random-input-len N           default 1024
  --random-output-len N          default 1024
  --random-range-ratio R         default 0.0 (SGLang: lengths in [max(1, L*R), L])
  --range-ratio-semantics S      sglang | vllm (vLLM: [L(1-R), L(1+R)])
  --sharegpt-output-len N, --sharegpt-context-len N
  --gsp-num-groups N --gsp-prompts-per-group N --gsp-system-prompt-len N --gsp-question-len N
  --gsp-output-len N --gsp-range-ratio R --gsp-ordered
  --seed N                       default 1 (bench_serving's)
  --no-cache-bust                do not salt prompts per run (a repeated run may hit a warm cache)
  --disable-ignore-eos, --temperature T (0.0), --top-p P, --extra-request-body JSON
Load (several --request-rate / --max-concurrency values: one run each, one table):
  --request-rate R               req/s or inf (default inf)
  --max-concurrency N
  --burstiness B                 gamma shape; 1 = Poisson (default), inf = constant
  --duration S                   send for S seconds instead of --num-prompts requests
  --trace-file FILE [--trace-time-scale X]   replay JSONL timestamps
  --trace-format F               mooncake | azure | burstgpt: replay --trace-file's requests with their
                                 lengths (Mooncake: prompts from hash_ids, shared blocks = shared prefix)
  --dataset-name mooncake --dataset-path FILE [--mooncake-slowdown-factor F] [--mooncake-block-size N]
                                 the same, spelled as bench_serving (block size default 512)
  --mooncake-prompt-style S      exact (default: blockSize tokens per hash id, input_length exactly) or
                                 sglang (bench_serving's own prompts, 128 "hi" per id) for parity
Multi-turn and agentic sessions (turn k+1 after turn k's reply + think time, history appended):
  --conversations FILE           [{"id","messages":[...]}] or ShareGPT [{"conversations":[...]}]
  --multi-turn-conversations N   generated: --multi-turn-turns N --multi-turn-input-len N
                                 --multi-turn-output-len N [--multi-turn-prefix-len N] [--multi-turn-shared-prefix-len N]
  --agents N                     agentic: --agent-calls N --agent-system-len N --agent-tool-len N --agent-output-len N
  --session-concurrency N | --session-rate R   sessions open at a time (default 1) or started per second
  --think-time T                 seconds: a number, exp:MEAN or uniform:MIN:MAX (default 0)
  --max-turns N, --max-conversations N   limit a conversations file
  --warmup-requests N            default 1
  --workers N                    load threads (default: one per ~1,000 streams or req/s, up to cores - 1)
  --idle-timeout S               a stream silent this long fails as stalled (default: from --goodput
                                 tpot/ttft, at least 60 s, at most 600 s)
Metrics and output:
  --metric-definition sglang|vllm   default sglang
  --metric-percentiles 90,95,99
  --goodput ttft:MS tpot:MS e2el:MS   (repeatable)
  --format md|csv|json           default md
  --output-file FILE             write the table/JSON there instead of stdout
  --run-store DIR                default ./.moebench/runs; --no-store keeps nothing
  --tag K=V                      stored with the run (repeatable)
  --quiet, --disable-tqdm         no progress lines on stderr
bench_serving compatibility (a pasted \`python3 -m sglang.bench_serving ...\` line works; flags may be
abbreviated as argparse allows, e.g. --random-input):
  --flush-cache                  POST /flush_cache before each run
  --return-logprob, --lora-name N   sent in the /generate request (return_logprob, lora_path; first name)
  accepted, no effect (each says why on stderr): --tokenizer, --disable-stream, --output-details,
  --pd-separated, --apply-chat-template, --tokenize-prompt, --profile
  --dataset-name mmmu: named, refused with the alternative (not generated here)
  defaults that differ: --dataset-name random (bench_serving: sharegpt, which needs a download)`;

class UsageError extends Error {}

const BACKENDS: Record<string, ApiKind> = {
  sglang: 'generate',
  'sglang-native': 'generate',
  'sglang-oai': 'completions',
  vllm: 'completions',
  'sglang-oai-chat': 'chat',
  'vllm-chat': 'chat',
};

function num(v: string | undefined, flag: string, fallback?: number): number | undefined {
  if (v === undefined) return fallback;
  if (v === 'inf') return Infinity;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`${flag}: not a number: ${v}`);
  return n;
}

function keyValues(list: string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UsageError(`${flag} takes KEY=VALUE (got ${kv})`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

function parseGoodput(list: string[] | undefined): SloSpec | undefined {
  if (!list?.length) return undefined;
  const slo: SloSpec = {};
  for (const item of list.flatMap((x) => x.split(/\s+/)).filter(Boolean)) {
    const [k, v] = item.split(':');
    const ms = Number(v);
    if (!Number.isFinite(ms) || ms <= 0) throw new UsageError(`--goodput ${item}: expected KEY:MS`);
    if (k === 'ttft') slo.ttftMs = ms;
    else if (k === 'tpot') slo.tpotMs = ms;
    else if (k === 'e2el' || k === 'e2e') slo.e2eMs = ms;
    else throw new UsageError(`--goodput: unknown metric "${k}" (ttft, tpot, e2el)`);
  }
  return slo;
}

const OPTIONS = {
  'base-url': { type: 'string' },
  url: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  backend: { type: 'string' },
  model: { type: 'string' },
  'served-model-name': { type: 'string' },
  header: { type: 'string', multiple: true },
  'dataset-name': { type: 'string' },
  'dataset-path': { type: 'string' },
  'num-prompts': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'random-input-len': { type: 'string' },
  'random-output-len': { type: 'string' },
  'random-range-ratio': { type: 'string' },
  'range-ratio-semantics': { type: 'string' },
  'sharegpt-output-len': { type: 'string' },
  'sharegpt-context-len': { type: 'string' },
  'gsp-num-groups': { type: 'string' },
  'gsp-prompts-per-group': { type: 'string' },
  'gsp-system-prompt-len': { type: 'string' },
  'gsp-question-len': { type: 'string' },
  'gsp-output-len': { type: 'string' },
  'gsp-range-ratio': { type: 'string' },
  'gsp-ordered': { type: 'boolean' },
  seed: { type: 'string' },
  'no-cache-bust': { type: 'boolean' },
  'disable-ignore-eos': { type: 'boolean' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  'extra-request-body': { type: 'string' },
  'request-rate': { type: 'string', multiple: true },
  'max-concurrency': { type: 'string', multiple: true },
  workers: { type: 'string' },
  burstiness: { type: 'string' },
  duration: { type: 'string' },
  'trace-file': { type: 'string' },
  'trace-time-scale': { type: 'string' },
  'trace-format': { type: 'string' },
  'mooncake-slowdown-factor': { type: 'string' },
  'mooncake-block-size': { type: 'string' },
  'mooncake-prompt-style': { type: 'string' },
  conversations: { type: 'string' },
  'multi-turn-conversations': { type: 'string' },
  'multi-turn-turns': { type: 'string' },
  'multi-turn-input-len': { type: 'string' },
  'multi-turn-output-len': { type: 'string' },
  'multi-turn-prefix-len': { type: 'string' },
  'multi-turn-shared-prefix-len': { type: 'string' },
  agents: { type: 'string' },
  'agent-calls': { type: 'string' },
  'agent-system-len': { type: 'string' },
  'agent-tool-len': { type: 'string' },
  'agent-output-len': { type: 'string' },
  'session-concurrency': { type: 'string' },
  'session-rate': { type: 'string' },
  'think-time': { type: 'string' },
  'max-turns': { type: 'string' },
  'max-conversations': { type: 'string' },
  'warmup-requests': { type: 'string' },
  'metric-definition': { type: 'string' },
  'metric-percentiles': { type: 'string' },
  goodput: { type: 'string', multiple: true },
  format: { type: 'string' },
  'output-file': { type: 'string' },
  'run-store': { type: 'string' },
  'no-store': { type: 'boolean' },
  tag: { type: 'string', multiple: true },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  // bench_serving's flags: implemented, or accepted with a notice saying why they change nothing
  'disable-tqdm': { type: 'boolean' },
  'flush-cache': { type: 'boolean' },
  'return-logprob': { type: 'boolean' },
  'lora-name': { type: 'string', multiple: true },
  tokenizer: { type: 'string' },
  'disable-stream': { type: 'boolean' },
  'output-details': { type: 'boolean' },
  'pd-separated': { type: 'boolean' },
  'apply-chat-template': { type: 'boolean' },
  'tokenize-prompt': { type: 'boolean' },
  profile: { type: 'boolean' },
} as const;

/** bench_serving flags moebench accepts but that change nothing here, and why */
const NO_EFFECT: Record<string, string> = {
  tokenizer: 'token counts come from the server (usage, meta_info) and the random dataset\'s own token ids; no local tokenizer is loaded',
  'disable-stream': 'moebench always streams: TTFT and ITL need the stream (bench_serving reports none without it)',
  'output-details': 'every request is always stored in the run store (requests.jsonl)',
  'pd-separated': 'a PD router is benchmarked like any endpoint; nothing differs on the client',
  'apply-chat-template': 'prompts go as text; use --backend sglang-oai-chat to have the server apply its chat template',
  'tokenize-prompt': 'random prompts are already built from token ids; other datasets are sent as text',
  profile: 'use a bench cell\'s `profile:` for torch-profiler traces around a step',
};

/** bench_serving dataset names that moebench does not generate, with what to use instead */
const UNSUPPORTED_DATASETS: Record<string, string> = {
  mmmu: 'MMMU is an image dataset and moebench sends text only',
};

/**
 * argparse (bench_serving) accepts any unambiguous prefix of a long flag (--random-input for
 * --random-input-len); node's parseArgs does not. Expand them so pasted command lines work.
 */
export function expandAbbreviations(argv: readonly string[]): string[] {
  const names = Object.keys(OPTIONS);
  return argv.map((a) => {
    if (!a.startsWith('--') || a === '--') return a;
    const eq = a.indexOf('=');
    const name = (eq < 0 ? a.slice(2) : a.slice(2, eq)).replace(/_/g, '-');
    if (names.includes(name)) return eq < 0 ? `--${name}` : `--${name}${a.slice(eq)}`;
    const hits = names.filter((n) => n.startsWith(name));
    return hits.length === 1 ? `--${hits[0]}${eq < 0 ? '' : a.slice(eq)}` : a;
  });
}

interface Plan {
  configs: { config: BenchmarkConfig; label: string }[];
  format: 'md' | 'csv' | 'json';
  outputFile?: string;
  runStoreDir?: string;
  tags?: Record<string, string>;
  quiet: boolean;
  /** POST /flush_cache before each run (bench_serving --flush-cache) */
  flushCache: boolean;
  /** what the accepted bench_serving flags did or did not do, printed on stderr */
  notices: string[];
}

/** flags -> one config per (rate, concurrency) pair */
export function planFromArgs(argv: string[]): Plan | 'help' {
  const { values: v } = parseArgs({ args: expandAbbreviations(argv), options: OPTIONS, allowPositionals: false, strict: true });
  if (v.help) return 'help';
  const notices: string[] = [];
  for (const [flag, why] of Object.entries(NO_EFFECT)) if (v[flag as keyof typeof v] !== undefined) notices.push(`--${flag} has no effect here: ${why}`);
  const url = (v['base-url'] ?? v.url ?? `http://${v.host ?? '127.0.0.1'}:${v.port ?? '30000'}`).replace(/\/+$/, '');
  const backend = v.backend ?? 'sglang';
  const api = BACKENDS[backend];
  if (!api) throw new UsageError(`--backend: unknown backend "${backend}" (${Object.keys(BACKENDS).join(', ')})`);
  const unsupported = UNSUPPORTED_DATASETS[v['dataset-name'] ?? ''];
  if (unsupported) throw new UsageError(`--dataset-name ${v['dataset-name'] ?? ''}: ${unsupported}`);
  const mooncake = v['dataset-name'] === 'mooncake';
  const datasetName = (mooncake ? 'random' : (v['dataset-name'] ?? 'random')) as DatasetName;
  if (!DATASET_NAMES.includes(datasetName)) throw new UsageError(`--dataset-name: unknown dataset "${datasetName}" (${DATASET_NAMES.join(', ')})`);
  const semantics = v['range-ratio-semantics'] ?? 'sglang';
  if (semantics !== 'sglang' && semantics !== 'vllm') throw new UsageError('--range-ratio-semantics: sglang or vllm');
  const definition = v['metric-definition'] ?? 'sglang';
  if (definition !== 'sglang' && definition !== 'vllm') throw new UsageError('--metric-definition: sglang or vllm');
  const format = v.format ?? 'md';
  if (format !== 'md' && format !== 'csv' && format !== 'json') throw new UsageError('--format: md, csv or json');
  let extraBody: Record<string, unknown> | undefined;
  if (v['extra-request-body']) {
    try {
      extraBody = JSON.parse(v['extra-request-body']) as Record<string, unknown>;
    } catch {
      throw new UsageError('--extra-request-body must be a JSON object');
    }
  }
  if (v['return-logprob'] || v['lora-name']?.length) {
    if (api !== 'generate') notices.push('--return-logprob / --lora-name are sent on the native /generate API only (bench_serving does the same for --backend sglang)');
    else {
      extraBody = { ...(extraBody ?? {}), ...(v['return-logprob'] ? { return_logprob: true } : {}), ...(v['lora-name']?.length ? { lora_path: v['lora-name'][0] } : {}) };
      if ((v['lora-name']?.length ?? 0) > 1) notices.push(`--lora-name: every request uses ${v['lora-name']?.[0] ?? ''} (bench_serving picks one of the names at random per request)`);
    }
  }
  const percentiles = (v['metric-percentiles'] ?? '90,95,99').split(',').map((p) => num(p.trim(), '--metric-percentiles') ?? 99);
  const rates = (v['request-rate'] ?? ['inf']).map((r) => num(r, '--request-rate') ?? Infinity);
  const concs: (number | undefined)[] = v['max-concurrency']?.length ? v['max-concurrency'].map((c) => num(c, '--max-concurrency')) : [undefined];
  const int = (flag: keyof typeof v & string, fallback?: number): number | undefined => num(v[flag] as string | undefined, `--${flag}`, fallback);
  const workload = workloadFromArgs(v, int, mooncake);
  const configs: Plan['configs'] = [];
  for (const rate of rates) {
    for (const conc of concs) {
      // a trace sets its own times and sessions their own starts: the rate is no part of the label
      const label = [workload ? (workload.trace !== undefined ? 'trace' : 'sessions') : Number.isFinite(rate) ? `rate ${rate}` : 'rate inf', conc !== undefined ? `concurrency ${conc}` : ''].filter(Boolean).join(', ');
      configs.push({
        label,
        config: {
          name: `bench-${backend}`,
          url,
          api,
          model: v['served-model-name'] ?? v.model,
          headers: keyValues(v.header, '--header'),
          baseDir: process.cwd(),
          dataset: {
            name: datasetName,
            numPrompts: int('num-prompts', 1000) ?? 1000,
            seed: int('seed', 1) ?? 1,
            inputLen: int('random-input-len', 1024),
            outputLen: int('random-output-len', datasetName.startsWith('random') ? 1024 : undefined),
            rangeRatio: int('random-range-ratio', 0),
            rangeSemantics: semantics,
            path: v['dataset-path'],
            sharegptOutputLen: int('sharegpt-output-len'),
            sharegptContextLen: int('sharegpt-context-len'),
            sharedPrefix: {
              numGroups: int('gsp-num-groups'),
              promptsPerGroup: int('gsp-prompts-per-group'),
              systemPromptLen: int('gsp-system-prompt-len'),
              questionLen: int('gsp-question-len'),
              outputLen: int('gsp-output-len'),
              rangeRatio: int('gsp-range-ratio'),
              ordered: v['gsp-ordered'],
            },
          },
          cacheBust: !v['no-cache-bust'],
          trace: v['trace-file'] && !workload?.trace ? { path: v['trace-file'], timeScale: int('trace-time-scale') } : undefined,
          workload: workload ? workloadSpecOf(workload) : undefined,
          requestRate: rate,
          burstiness: int('burstiness', 1) ?? 1,
          maxConcurrency: conc,
          durationSec: int('duration'),
          warmupRequests: int('warmup-requests', 1) ?? 1,
          workers: int('workers'),
          definition,
          percentiles,
          slo: parseGoodput(v.goodput),
          idleTimeoutMs: idleTimeoutMs(int('idle-timeout'), parseGoodput(v.goodput)),
          payload: { temperature: int('temperature', 0) ?? 0, ignoreEos: !v['disable-ignore-eos'], topP: int('top-p'), extraBody },
        },
      });
    }
  }
  return {
    configs,
    format,
    outputFile: v['output-file'],
    runStoreDir: v['no-store'] ? undefined : path.resolve(v['run-store'] ?? path.join('.moebench', 'runs')),
    tags: keyValues(v.tag, '--tag'),
    quiet: v.quiet === true || v['disable-tqdm'] === true,
    flushCache: v['flush-cache'] === true,
    notices,
  };
}

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: false; strict: true }>>['values'];

/** --think-time: 2, exp:2, uniform:1:3 */
function thinkTime(text: string | undefined): DistributionInput | undefined {
  if (text === undefined) return undefined;
  const [kind, a, b] = text.split(':');
  const n = (x: string | undefined): number => {
    const v = Number(x);
    if (!Number.isFinite(v) || v < 0) throw new UsageError(`--think-time: not a number of seconds: ${text}`);
    return v;
  };
  if (a === undefined) return n(kind);
  if (kind === 'exp' || kind === 'exponential') return { exponential: n(a) };
  if (kind === 'uniform') return { uniform: [n(a), n(b)] };
  throw new UsageError(`--think-time: ${text} (a number, exp:MEAN or uniform:MIN:MAX)`);
}

function promptStyleOf(v: string | undefined): 'exact' | 'sglang' | undefined {
  if (v === undefined || v === 'exact' || v === 'sglang') return v;
  throw new UsageError(`--mooncake-prompt-style: ${v} (exact or sglang)`);
}

/** flag names of the workload fields, for the rule messages */
const WORKLOAD_FLAGS: Record<string, string> = {
  trace: '--trace-file',
  format: '--trace-format',
  blockSize: '--mooncake-block-size',
  timeScale: '--mooncake-slowdown-factor',
  conversations: '--conversations / --multi-turn-conversations',
  agents: '--agents',
  sessions: '--session-concurrency / --session-rate',
  thinkTimeSec: '--think-time',
  maxTurns: '--max-turns',
  maxConversations: '--max-conversations',
  promptStyle: '--mooncake-prompt-style',
  path: '--dataset-path',
};

/** the workload flags as the bench cell's workload fields, checked by the cell's rules */
function workloadFromArgs(v: Values, int: (flag: keyof Values & string, fallback?: number) => number | undefined, mooncake: boolean): WorkloadFieldsIn | undefined {
  const format = v['trace-format'] ?? (mooncake ? 'mooncake' : undefined);
  if (format !== undefined && !(TRACE_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--trace-format: ${format} (${TRACE_FORMATS.join(', ')})`);
  const trace = mooncake ? v['dataset-path'] : format !== undefined ? v['trace-file'] : undefined;
  if (mooncake && !trace) throw new UsageError('--dataset-name mooncake needs --dataset-path FILE (the trace JSONL; moebench downloads nothing)');
  const need = (flag: keyof Values & string): number => {
    const n = int(flag);
    if (n === undefined) throw new UsageError(`--${flag} is needed with ${flag.startsWith('agent') ? '--agents' : '--multi-turn-conversations'}`);
    return n;
  };
  const generated = v['multi-turn-conversations'] !== undefined;
  const w: WorkloadFieldsIn = {
    seed: int('seed', 1) ?? 1,
    trace,
    format: format as TraceFormat | undefined,
    blockSize: int('mooncake-block-size'),
    promptStyle: promptStyleOf(v['mooncake-prompt-style']),
    timeScale: int('mooncake-slowdown-factor') ?? (format !== undefined && !mooncake ? int('trace-time-scale') : undefined),
    conversations: v.conversations ?? (generated ? { count: need('multi-turn-conversations'), turns: need('multi-turn-turns'), inputTokens: need('multi-turn-input-len'), outputTokens: need('multi-turn-output-len'), sharedPrefixTokens: int('multi-turn-shared-prefix-len') ?? 0, prefixTokens: int('multi-turn-prefix-len') } : undefined),
    agents: v.agents !== undefined ? { count: need('agents'), calls: need('agent-calls'), systemPromptTokens: need('agent-system-len'), toolOutputTokens: need('agent-tool-len'), outputTokens: need('agent-output-len') } : undefined,
    sessions: v['session-rate'] !== undefined ? { rate: int('session-rate') ?? 1 } : v['session-concurrency'] !== undefined ? { concurrency: int('session-concurrency') ?? 1 } : undefined,
    thinkTimeSec: thinkTime(v['think-time']),
    maxTurns: int('max-turns'),
    maxConversations: int('max-conversations'),
    path: mooncake ? undefined : v['dataset-path'],
  };
  if (v['session-rate'] !== undefined && v['session-concurrency'] !== undefined) throw new UsageError('--session-rate and --session-concurrency: give one');
  if (w.trace === undefined && w.conversations === undefined && w.agents === undefined) {
    const stray = (['sessions', 'thinkTimeSec', 'maxTurns', 'maxConversations', 'blockSize'] as const).find((k) => w[k] !== undefined);
    if (stray) throw new UsageError(`${WORKLOAD_FLAGS[stray]} applies to a trace (--trace-format) or sessions (--conversations, --multi-turn-conversations, --agents)`);
    return undefined;
  }
  const issues = workloadIssues(w, false, (v['request-rate'] ?? []).some((r) => r !== 'inf'));
  if (issues.length) throw new UsageError(issues.map((i) => `${WORKLOAD_FLAGS[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`).join('; '));
  return w;
}

/** `moebench bench`: one run per (rate, concurrency), one table (md/csv) or one JSON document. */
export async function benchCommand(argv: string[]): Promise<number> {
  let plan: Plan | 'help';
  try {
    plan = planFromArgs(argv);
  } catch (err) {
    process.stderr.write(`moebench bench: ${(err as Error).message}\n\nRun "moebench bench --help" for the options.\n`);
    return 2;
  }
  if (plan === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  for (const n of plan.notices) process.stderr.write(`moebench bench: ${n}\n`);
  const abort = new AbortController();
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write('\nmoebench bench: stopping; requests already received are kept (Ctrl-C again to quit now)\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  const outcomes: { label: string; config: BenchmarkConfig; outcome: BenchmarkOutcome }[] = [];
  try {
    const rows = await prepareRows(plan.configs[0].config);
    for (const { config, label } of plan.configs) {
      if (abort.signal.aborted) break;
      if (plan.flushCache) {
        const r = await fetch(`${config.url}/flush_cache`, { method: 'POST', headers: config.headers, signal: abort.signal }).catch((err: unknown) => err as Error);
        if (r instanceof Error || !r.ok) process.stderr.write(`[${label}] --flush-cache: POST /flush_cache failed (${r instanceof Error ? r.message : `HTTP ${r.status}`}); running anyway\n`);
      }
      let live: LiveRun | undefined;
      const timer = plan.quiet
        ? undefined
        : setInterval(() => {
            const p = live?.progress();
            if (p) process.stderr.write(`[${label}] ${p.phase}: ${p.completed + p.failed} done, ${p.inFlight} in flight, ${p.failed} failed, ${(p.elapsedMs / 1000).toFixed(1)} s\n`);
          }, 1000);
      try {
        const outcome = await runBenchmark(config, { runStoreDir: plan.runStoreDir, signal: abort.signal, rows, onStart: (r) => (live = r), spec: { argv: redactHeaderArgs(argv) }, toolVersion: TOOL_VERSION, tags: plan.tags, step: plan.configs.length > 1 ? { index: outcomes.length, of: plan.configs.length, label, requestRate: Number.isFinite(config.requestRate) ? config.requestRate : 'inf', maxConcurrency: config.maxConcurrency ?? null } : undefined });
        // the table needs each step's summary, not its per-request records: a long sweep must not hold them all
        outcomes.push({ label, config, outcome: { ...outcome, records: [], derived: [] } });
        for (const c of outcome.validity.filter((x) => x.level === 'warn' || x.level === 'error')) process.stderr.write(`[${label}] ${c.level}: ${c.text} — ${c.detail}\n`);
      } finally {
        if (timer) clearInterval(timer);
      }
    }
  } catch (err) {
    const d = describeError(err);
    process.stderr.write(`moebench bench: ${d.title}${d.location ? ` (${d.location})` : ''}${d.hint ? `\n  ${d.hint}` : ''}\n`);
    if (outcomes.length === 0) return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
  const text = render(plan.format, outcomes);
  if (plan.outputFile) await writeFile(plan.outputFile, text, 'utf8');
  else process.stdout.write(text);
  if (abort.signal.aborted) return 130;
  return outcomes.some((o) => o.outcome.validity.some((c) => c.id === 'error-rate' && c.level === 'error')) ? 1 : 0;
}

function render(format: Plan['format'], outcomes: { label: string; config: BenchmarkConfig; outcome: BenchmarkOutcome }[]): string {
  if (format === 'json') {
    const runs = outcomes.map(({ label, config, outcome }) => ({
      run_id: outcome.runId,
      run_dir: outcome.runDir ?? null,
      label,
      backend: BACKEND_NAMES[config.api],
      dataset_name: config.dataset.name,
      request_rate: Number.isFinite(config.requestRate) ? config.requestRate : 'inf',
      max_concurrency: config.maxConcurrency ?? null,
      random_input_len: config.dataset.inputLen ?? null,
      random_output_len: config.dataset.outputLen ?? null,
      random_range_ratio: config.dataset.rangeRatio ?? null,
      metric_definition: config.definition,
      simulated: outcome.simulated,
      cancelled: outcome.cancelled,
      summary: sglangJson(outcome.summary),
      validity: outcome.validity,
      ...(outcome.workload ? { workload: outcome.workload } : {}),
    }));
    return JSON.stringify({ runs }, null, 2) + '\n';
  }
  const table = summaryTable(outcomes.map((o) => ({ label: o.label, requestRate: o.config.requestRate, maxConcurrency: o.config.maxConcurrency, summary: o.outcome.summary })));
  const text = format === 'csv' ? toCsv(table) : toMarkdown(table);
  return format === 'md' ? text + workloadMarkdown(outcomes) : text;
}

/** trace and session runs: expected vs measured prefix reuse, and TTFT by turn */
function workloadMarkdown(outcomes: { label: string; outcome: BenchmarkOutcome }[]): string {
  const f = (v: number | null | undefined, d = 3): string => (v === null || v === undefined ? '-' : v.toFixed(d));
  let out = '';
  for (const { label, outcome } of outcomes) {
    const w = outcome.workload;
    if (!w) continue;
    const measured =
      w.measuredHitRate === null
        ? 'not measured: the responses carried no cached_tokens (SGLang reports them on /generate always, on the OpenAI APIs with --enable-cache-report)'
        : `measured ${f(w.measuredHitRate)} (${w.measuredCachedTokens} of ${w.measuredPromptTokens} prompt tokens from the responses)`;
    out += `\n[${label}] ${w.summary.label}: prefix-cache hit rate expected ${f(w.summary.expected.hitRate)} (unbounded cache), ${measured}\n`;
    if (w.sessions) out += `sessions: ${w.sessions.completed} of ${w.sessions.sessions} completed, ${f(w.sessions.turnsMean, 1)} turns each, duration p50 ${f(w.sessions.durationP50Sec, 1)} s\n`;
    if (w.byTurn?.length) {
      out += '\n| turn | requests | prompt tokens (mean) | TTFT mean ms | TTFT p99 ms | cache hit rate |\n|---:|---:|---:|---:|---:|---:|\n';
      for (const t of w.byTurn) out += `| ${t.turn} | ${t.requests} | ${f(t.promptTokensMean, 0)} | ${f(t.ttftMeanMs, 1)} | ${f(t.ttftP99Ms, 1)} | ${f(t.cacheHitRate)} |\n`;
    }
  }
  return out;
}
