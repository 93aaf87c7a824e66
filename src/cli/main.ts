import { TOOL_VERSION } from './version';

const USAGE = `moebench ${TOOL_VERSION} — deploy and benchmark MoE models with SGLang / vLLM

Usage: moebench <command> [options]

Commands:
  run <notebook>     run a .moebench notebook headless and write its outputs (-o out.moebench)
  bench              quick benchmark against an endpoint (flags mirror sglang.bench_serving)
  plan <notebook>    print the planned launch commands per node without touching any node
  doctor <notebook>  preflight checks on every node of a cluster cell (GPUs, driver, NVLink, IB...)
  report             compare runs (ours and imported) as Markdown, CSV or self-contained HTML
  import <file>...   store other tools' results (bench_serving, vllm bench, AIPerf, GuideLLM) as runs
  sim                the embedded SGLang emulator (serve, launch-server, router, nvidia-smi)

Run "moebench <command> --help" for a command's options.`;

type Command = (argv: string[]) => Promise<number>;

// commands load lazily so `moebench run` never pays for the emulator or ssh2
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run')).runCommand,
  plan: async () => (await import('./commands/plan')).planCommand,
  doctor: async () => (await import('./commands/doctor')).doctorCommand,
  sim: async () => (await import('./commands/sim')).simCommand,
  bench: async () => (await import('./commands/bench')).benchCommand,
  report: async () => (await import('./commands/report')).reportCommand,
  import: async () => (await import('./commands/import')).importCommand,
  // hidden: a client node's share of a multi-node load run, started over SSH by the run's owner
  'load-shard': async () => (await import('./commands/load-shard')).loadShardCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(USAGE + '\n');
    return sub ? 0 : 2;
  }
  if (sub === '--version' || sub === '-v') {
    process.stdout.write(TOOL_VERSION + '\n');
    return 0;
  }
  const load = COMMANDS[sub];
  if (!load) {
    process.stderr.write(`moebench: unknown command "${sub}"\n\n${USAGE}\n`);
    return 2;
  }
  return (await load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    // a lingering handle (a server a cell forgot) must never hang CI: exit explicitly
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`moebench: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(70);
  },
);
