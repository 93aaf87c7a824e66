/**
 * InfiniBand / RoCE port counters from sysfs, read by ONE long-lived shell loop per node.
 *
 * `/sys/class/infiniband/<dev>/ports/<n>/counters/port_xmit_data` and `port_rcv_data` count
 * data octets divided by 4 (IBA PortCounters: "in units of 4 bytes"; RoCE mlx5 ports keep the
 * same unit). Modern kernels back these files with the 64-bit PortCountersExtended when the HCA
 * has them (every ConnectX-4 or newer); a few drivers instead expose the 64-bit values as
 * `counters_ext/port_xmit_data_64` and keep the 32-bit ones in `counters/`, which saturate
 * (stick at 2^32-1, they do not wrap) after ~17 GB — about 0.3 s at 400 Gbit/s. The loop prefers
 * `counters_ext/*_64` when present and the parser flags a value pinned at 2^32-1.
 *
 * Test seam: MOEBENCH_IB_SYSFS_ROOT on the node replaces `/sys/class/infiniband` (the sshd test
 * lab sets it per node with `SetEnv`); on emulated nodes (MOEBENCH_SIM_STATE_DIR and NODE_NAME
 * set) the default is the emulator's fake tree `<state>/<node>/infiniband`, driven by the load.
 */
export const IB_SYSFS_ROOT_ENV = 'MOEBENCH_IB_SYSFS_ROOT';

/**
 * Fixed script; the only argument is the interval in seconds. Counters are read with the `read`
 * builtin, not `cat`: two forks per tick (date, sleep) instead of two per port. Prints per tick:
 *   @moebench-tick <node epoch ns>
 *   <dev> <port> <xmit_data> <rcv_data>
 * and once at start `@moebench-ib-none <root>` (then exits 3) when there are no ports.
 */
export const IB_LOOP_SCRIPT = `root=\${${IB_SYSFS_ROOT_ENV}:-}
if [ -z "$root" ] && [ -n "\${MOEBENCH_SIM_STATE_DIR:-}" ] && [ -n "\${NODE_NAME:-}" ]; then root=$MOEBENCH_SIM_STATE_DIR/$NODE_NAME/infiniband; fi
root=\${root:-/sys/class/infiniband}
iv=$1
set --
for p in "$root"/*/ports/*; do
  [ -d "$p/counters" ] && set -- "$@" "$p"
done
if [ $# -eq 0 ]; then echo "@moebench-ib-none $root"; exit 3; fi
while :; do
  echo "@moebench-tick $(date +%s%N)"
  for p in "$@"; do
    n=\${p##*/}; d=\${p%/ports/*}; d=\${d##*/}
    x=; r=
    if [ -r "$p/counters_ext/port_xmit_data_64" ]; then
      read -r x 2>/dev/null < "$p/counters_ext/port_xmit_data_64"; read -r r 2>/dev/null < "$p/counters_ext/port_rcv_data_64"
    else
      read -r x 2>/dev/null < "$p/counters/port_xmit_data"; read -r r 2>/dev/null < "$p/counters/port_rcv_data"
    fi
    echo "$d $n \${x:-x} \${r:-x}"
  done
  sleep "$iv"
done`;

export function ibLoopArgv(intervalSec: string): string[] {
  return ['sh', '-c', IB_LOOP_SCRIPT, 'moebench-ib', intervalSec];
}

export const IB_NONE_MARK = '@moebench-ib-none';

/** Raw counter values of one port at one read (units of 4 bytes). */
export interface PortCounters {
  device: string;
  port: number;
  xmitWords: bigint;
  rcvWords: bigint;
}

const COUNTER_LINE = /^(\S+)\s+(\d+)\s+(\d+|x)\s+(\d+|x)\s*$/;

export function parseCounterLine(line: string): PortCounters | undefined {
  const m = COUNTER_LINE.exec(line.trim());
  if (!m || m[3] === 'x' || m[4] === 'x') return undefined;
  return { device: m[1], port: Number(m[2]), xmitWords: BigInt(m[3]), rcvWords: BigInt(m[4]) };
}

const U32_MAX = 4294967295n;

export interface PortRate {
  device: string;
  port: number;
  txGbps: number;
  rxGbps: number;
  saturated: boolean;
}

/**
 * Gbit/s between two reads `dtSec` apart: Δwords × 4 bytes × 8 bits. A counter that went
 * back (reset, driver reload) gives no rate for that port.
 */
export function portRates(prev: readonly PortCounters[], next: readonly PortCounters[], dtSec: number): PortRate[] {
  if (!(dtSec > 0)) return [];
  const before = new Map(prev.map((p) => [`${p.device}/${p.port}`, p]));
  const out: PortRate[] = [];
  for (const n of next) {
    const p = before.get(`${n.device}/${n.port}`);
    if (!p) continue;
    const dx = n.xmitWords - p.xmitWords;
    const dr = n.rcvWords - p.rcvWords;
    if (dx < 0n || dr < 0n) continue;
    const gbps = (words: bigint): number => (Number(words) * 32) / dtSec / 1e9;
    out.push({ device: n.device, port: n.port, txGbps: gbps(dx), rxGbps: gbps(dr), saturated: n.xmitWords === U32_MAX || n.rcvWords === U32_MAX });
  }
  return out.sort((a, b) => (a.device === b.device ? a.port - b.port : a.device.localeCompare(b.device, 'en', { numeric: true })));
}
