import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { gpusPerNode, type ServerShape } from './shape';

/**
 * SGLang's torch profiler, emulated: /start_profile remembers the output dir and the pass count,
 * /stop_profile writes one gzipped Chrome trace per local TP rank (`<ts>-TP-<rank>.trace.json.gz`,
 * SGLang's naming) whose GPU kernels add up to the busy time the performance model spent in
 * between, split like a DeepSeek MoE forward pass. Kernel names are real ones (FlashMLA,
 * DeepGEMM, DeepEP) so the collector's categorisation is exercised for real.
 */
const KERNEL_MIX: readonly [name: string, share: number][] = [
  ['flash_fwd_splitkv_mla_kernel', 0.22],
  ['deep_gemm::fp8_gemm_kernel<grouped_masked>', 0.3],
  ['sm90_xmma_gemm_bf16bf16_bf16f32', 0.12],
  ['deep_ep::internode_ll::dispatch', 0.13],
  ['deep_ep::internode_ll::combine', 0.1],
  ['fused_add_rmsnorm_kernel', 0.08],
  ['act_and_mul_kernel', 0.05],
];

export class EmulatedProfiler {
  private active: { outputDir: string; passes: number; busyMs: number; startedMs: number } | undefined;

  constructor(
    private readonly shape: ServerShape,
    private readonly stats: () => { passes: number; busyMs: number },
  ) {}

  start(outputDir: string | undefined): void {
    const s = this.stats();
    this.active = { outputDir: outputDir ?? process.env.SGLANG_TORCH_PROFILER_DIR ?? '/tmp', passes: s.passes, busyMs: s.busyMs, startedMs: Date.now() };
  }

  /** writes the traces; false when no profile was running (SGLang answers an error then) */
  async stop(): Promise<boolean> {
    const a = this.active;
    if (!a) return false;
    this.active = undefined;
    const s = this.stats();
    const passes = Math.max(1, s.passes - a.passes);
    const busyUs = Math.max(1000, (s.busyMs - a.busyMs) * 1000);
    await mkdir(a.outputDir, { recursive: true });
    const ranks = gpusPerNode(this.shape);
    const firstRank = this.shape.nodeRank * ranks;
    for (let r = firstRank; r < firstRank + ranks; r++) {
      const events: Record<string, unknown>[] = [];
      const perPassUs = busyUs / passes;
      // cap the event count: a long profile keeps its totals with fewer, longer events
      const passesDrawn = Math.min(passes, 200);
      const scale = passes / passesDrawn;
      let t = 0;
      for (let p = 0; p < passesDrawn; p++) {
        for (const [name, share] of KERNEL_MIX) {
          const dur = perPassUs * share * scale;
          events.push({ ph: 'X', cat: 'kernel', name, pid: r, tid: 7, ts: t, dur });
          t += dur;
        }
      }
      const file = join(a.outputDir, `${a.startedMs}-TP-${r}.trace.json.gz`);
      await writeFile(file, gzipSync(JSON.stringify({ traceEvents: events, displayTimeUnit: 'ms', moebench: 'simulated' })));
    }
    return true;
  }
}
