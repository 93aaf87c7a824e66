/**
 * `nvidia-smi nvlink -gt d` (driver 580 on H200, see test/fixtures/deep-telemetry/h200x4):
 *
 *   GPU 0: NVIDIA H200 (UUID: GPU-4610e6d2-...)
 *   	 Link 0: Data Tx: 30817192 KiB
 *   	 Link 0: Data Rx: 0 KiB
 *
 * Cumulative data counters per link, in KiB. nvidia-smi has no loop option for them, so the
 * fallback runs one long-lived shell loop per node that prints a node-clock time stamp line
 * before each read; rates are Δcounter / Δnode time.
 */
export interface NvlinkCounters {
  /** per GPU index: totals over its links, in KiB */
  gpus: Map<number, { txKiB: number; rxKiB: number; links: number }>;
}

const GPU_LINE = /^GPU\s+(\d+):/;
const LINK_LINE = /^Link\s+(\d+):\s*Data\s+(Tx|Rx):\s*([\d.]+)\s*(KiB|MiB|GiB|B)?/i;
const UNIT_KIB: Record<string, number> = { b: 1 / 1024, kib: 1, mib: 1024, gib: 1024 * 1024 };

export function parseNvlinkCounters(text: string): NvlinkCounters {
  const out: NvlinkCounters = { gpus: new Map() };
  let gpu: number | undefined;
  const linksSeen = new Map<number, Set<number>>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const g = GPU_LINE.exec(line);
    if (g) {
      gpu = Number(g[1]);
      if (!out.gpus.has(gpu)) out.gpus.set(gpu, { txKiB: 0, rxKiB: 0, links: 0 });
      linksSeen.set(gpu, new Set());
      continue;
    }
    const l = LINK_LINE.exec(line);
    if (!l || gpu === undefined) continue;
    const entry = out.gpus.get(gpu);
    if (!entry) continue;
    const kib = Number(l[3]) * (UNIT_KIB[(l[4] ?? 'KiB').toLowerCase()] ?? 1);
    if (l[2].toLowerCase() === 'tx') entry.txKiB += kib;
    else entry.rxKiB += kib;
    const seen = linksSeen.get(gpu);
    if (seen && !seen.has(Number(l[1]))) {
      seen.add(Number(l[1]));
      entry.links = seen.size;
    }
  }
  return out;
}

/** GB/s per GPU between two reads `dtSec` apart; a GPU whose counter went back (reset) is left out. */
export function nvlinkRates(prev: NvlinkCounters, next: NvlinkCounters, dtSec: number): Map<number, { txGBps: number; rxGBps: number }> {
  const out = new Map<number, { txGBps: number; rxGBps: number }>();
  if (!(dtSec > 0)) return out;
  for (const [index, n] of next.gpus) {
    const p = prev.gpus.get(index);
    if (!p) continue;
    const dTx = n.txKiB - p.txKiB;
    const dRx = n.rxKiB - p.rxKiB;
    if (dTx < 0 || dRx < 0) continue;
    out.set(index, { txGBps: (dTx * 1024) / dtSec / 1e9, rxGBps: (dRx * 1024) / dtSec / 1e9 });
  }
  return out;
}

/** Marker line the sampling loop prints before each read: `@moebench-tick <node epoch ns>`. */
export const TICK_MARK = '@moebench-tick';

/**
 * Fixed script: `$1` is the interval in seconds. `date +%s%N` is GNU; where it prints no
 * nanoseconds the collector falls back to the local receive time.
 */
export const NVLINK_LOOP_SCRIPT = `iv=$1
while :; do
  echo "${TICK_MARK} $(date +%s%N)"
  nvidia-smi nvlink -gt d || exit $?
  sleep "$iv"
done`;

export function nvlinkLoopArgv(intervalMs: number): string[] {
  return ['sh', '-c', NVLINK_LOOP_SCRIPT, 'moebench-nvlink', secondsArg(intervalMs)];
}

/** "1", "0.5": sleep accepts fractions on GNU and busybox */
export function secondsArg(intervalMs: number): string {
  const sec = Math.max(0.1, Math.round(intervalMs / 100) / 10);
  return String(sec);
}

/** node epoch nanoseconds from a tick line -> milliseconds, or undefined when the node's date lacks %N */
export function tickNodeMs(line: string): number | undefined {
  const m = /^@moebench-tick\s+(\d{16,})\s*$/.exec(line.trim());
  return m ? Number(m[1].slice(0, -6)) + Number(m[1].slice(-6)) / 1e6 : undefined;
}
