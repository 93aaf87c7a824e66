/**
 * How many GPUs a deployment used, from its exact launch commands. One command runs on one node.
 * SGLang: tp·pp GPUs per server across --nnodes nodes, times dp replicas unless DP attention puts
 * dp inside tp. vLLM: tp·pp·(data-parallel-size-local, else data-parallel-size) per node.
 * CUDA_VISIBLE_DEVICES, when set, is the truth for its node.
 */
export function gpuCountFromCommands(commands: readonly { node?: string; argv: readonly string[]; env: Record<string, string> }[] | undefined): number | null {
  if (!commands || commands.length === 0) return null;
  let total = 0;
  let servers = 0;
  for (const c of commands) {
    const kind = serverKind(c.argv);
    if (!kind) continue;
    servers++;
    const visible = c.env['CUDA_VISIBLE_DEVICES'];
    if (visible !== undefined && visible.trim() !== '') {
      total += visible.split(',').filter((x) => x.trim() !== '').length;
      continue;
    }
    const flag = (...names: string[]): number | undefined => flagValue(c.argv, names);
    const tp = flag('--tp-size', '--tp', '--tensor-parallel-size', '-tp') ?? 1;
    const pp = flag('--pp-size', '--pp', '--pipeline-parallel-size', '-pp') ?? 1;
    if (kind === 'sglang') {
      const nnodes = flag('--nnodes') ?? 1;
      const dp = c.argv.includes('--enable-dp-attention') ? 1 : (flag('--dp-size', '--dp', '--data-parallel-size') ?? 1);
      total += (tp * pp * dp) / nnodes;
    } else {
      const dp = flag('--data-parallel-size-local', '-dpl') ?? flag('--data-parallel-size', '-dp') ?? 1;
      total += tp * pp * dp;
    }
  }
  return servers > 0 && total > 0 ? Math.round(total) : null;
}

function serverKind(argv: readonly string[]): 'sglang' | 'vllm' | undefined {
  const joined = argv.join(' ');
  if (/sglang[._]router|launch_router/.test(joined)) return undefined;
  if (/sglang\.launch_server|sglang serve/.test(joined)) return 'sglang';
  if (/(^|[\s/])vllm\s+serve\b|vllm\.entrypoints/.test(joined)) return 'vllm';
  return undefined;
}

function flagValue(argv: readonly string[], names: readonly string[]): number | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    for (const n of names) {
      let raw: string | undefined;
      if (a === n) raw = argv[i + 1];
      else if (a.startsWith(`${n}=`)) raw = a.slice(n.length + 1);
      if (raw === undefined) continue;
      const v = Number(raw);
      if (Number.isFinite(v) && v > 0) return v;
    }
  }
  return undefined;
}
