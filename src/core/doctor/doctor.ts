import type { Cluster, ExecResult } from '../launch/types';
import { parseGpuInventoryXml, type GpuInventory } from '../telemetry/gpu/inventory';
import { nearestNics, parseTopology, type GpuTopology } from '../telemetry/gpu/topology';
import { setMaxListeners } from 'node:events';
import { parseDfPosix, parseHcaNuma, parseIbstat, parseIbvDevinfo, parseListeners, parseNvlinkStatus, peerMemModule, portTaken, xidEvents, type IbPort } from './parse';
import { PROBES, probeArgv, type DoctorProbeOptions, type ProbeId } from './probes';

export type DoctorLevel = 'ok' | 'info' | 'warn' | 'error';

/** One line of a node's table. `compare` marks facts that must be the same on every node. */
export interface DoctorRow {
  key: string;
  label: string;
  value: string;
  level: DoctorLevel;
  note?: string;
  compare?: boolean;
}

export interface NodeReport {
  node: string;
  rows: DoctorRow[];
}

export interface Mismatch {
  key: string;
  label: string;
  node: string;
  value: string;
  /** what most nodes report */
  majority: string;
}

export interface DoctorReport {
  nodes: NodeReport[];
  mismatches: Mismatch[];
  /** worst level over every row and mismatch */
  level: DoctorLevel;
}

export interface DoctorOptions extends DoctorProbeOptions {
  /** GB the model needs on disk (default: only report free space) */
  modelSizeGB?: number;
  /** ports the deployment will listen on: each must be free on every node */
  ports?: readonly number[];
  /** optional DeepEP smoke test (argv), run on every node after the probes */
  deepepSmoke?: readonly string[];
  /** nodes to check (default all) */
  nodes?: readonly string[];
  signal?: AbortSignal;
}

type Outputs = Partial<Record<ProbeId, ExecResult | Error>>;

const RANK: Record<DoctorLevel, number> = { ok: 0, info: 1, warn: 2, error: 3 };

async function runProbes(cluster: Cluster, node: string, o: DoctorOptions): Promise<Outputs> {
  const out: Outputs = {};
  // at most 4 channels at once: OpenSSH's MaxSessions (10) is shared with telemetry streams
  const queue = [...PROBES];
  const worker = async (): Promise<void> => {
    for (let id = queue.shift(); id; id = queue.shift()) {
      const argv = probeArgv(id, o);
      if (!argv) continue;
      try {
        out[id] = await cluster.exec(node, argv, { signal: o.signal, captureLimitBytes: 4 << 20 });
      } catch (err) {
        out[id] = err instanceof Error ? err : new Error(String(err));
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  // ibstat (infiniband-diags) is not everywhere; ibv_devinfo (rdma-core) is the fallback
  const ib = out.ibstat;
  if (!ib || ib instanceof Error || ib.exitCode !== 0) {
    try {
      out.ibvDevinfo = await cluster.exec(node, probeArgv('ibvDevinfo', o) ?? [], { signal: o.signal });
    } catch (err) {
      out.ibvDevinfo = err instanceof Error ? err : new Error(String(err));
    }
  }
  return out;
}

function ok(r: ExecResult | Error | undefined): r is ExecResult {
  return r !== undefined && !(r instanceof Error) && r.exitCode === 0;
}

/** exit status of a probe that ran (undefined when it could not start) */
function exitOf(r: ExecResult | Error | undefined): number | null | undefined {
  return r === undefined || r instanceof Error ? undefined : r.exitCode;
}

function why(r: ExecResult | Error | undefined): string {
  if (r === undefined) return 'not run';
  if (r instanceof Error) return r.message;
  if (r.exitCode === 127) return 'command not found';
  const last = r.stderr.trim().split('\n').pop() || r.stdout.trim().split('\n').pop() || '';
  return `exit ${r.exitCode ?? r.signal}${last ? `: ${last.slice(0, 160)}` : ''}`;
}

const uniq = (xs: readonly (string | number | boolean | undefined)[]): string => [...new Set(xs.map((x) => (x === undefined ? '?' : String(x))))].join(', ');

function gpuRows(expectedGpus: number, inv: GpuInventory | undefined, failure: string | undefined): DoctorRow[] {
  if (!inv) return [{ key: 'gpus', label: 'GPUs', value: 'unreadable', level: 'error', note: `nvidia-smi -q -x: ${failure}`, compare: true }];
  const g = inv.gpus;
  const rows: DoctorRow[] = [
    { key: 'gpus', label: 'GPUs', value: String(g.length), level: g.length === expectedGpus ? 'ok' : 'error', note: g.length === expectedGpus ? undefined : `the cluster cell says ${expectedGpus}`, compare: true },
    { key: 'gpuModel', label: 'GPU model', value: uniq(g.map((x) => x.name)), level: 'ok', compare: true },
    { key: 'driver', label: 'driver', value: inv.driverVersion ?? '?', level: 'ok', compare: true },
    { key: 'cuda', label: 'CUDA (driver)', value: inv.cudaVersion ?? '?', level: 'ok', compare: true },
    { key: 'powerLimit', label: 'power limit', value: uniq(g.map((x) => (x.powerLimitW === undefined ? undefined : `${x.powerLimitW} W`))), level: g.some((x) => x.powerLimitW !== undefined && x.powerLimitMaxW !== undefined && x.powerLimitW < x.powerLimitMaxW) ? 'warn' : 'ok', compare: true },
    { key: 'maxClocks', label: 'max SM / memory clock', value: uniq(g.map((x) => `${x.maxSmClockMHz ?? '?'} / ${x.maxMemClockMHz ?? '?'} MHz`)), level: 'ok', compare: true },
    { key: 'ecc', label: 'ECC mode', value: uniq(g.map((x) => (x.eccEnabled === undefined ? undefined : x.eccEnabled ? 'enabled' : 'disabled'))), level: 'ok', compare: true },
    { key: 'persistence', label: 'persistence mode', value: uniq(g.map((x) => (x.persistenceMode === undefined ? undefined : x.persistenceMode ? 'on' : 'off'))), level: g.some((x) => x.persistenceMode === false) ? 'warn' : 'ok', compare: true },
    { key: 'mig', label: 'MIG', value: uniq(g.map((x) => (x.migEnabled ? 'enabled' : 'disabled'))), level: g.some((x) => x.migEnabled) ? 'warn' : 'ok', compare: true },
  ];
  const ecc = g.reduce((a, x) => a + (x.eccUncorrectedVolatile ?? 0), 0);
  const pending = g.filter((x) => x.remappedRowPending).map((x) => x.index);
  rows.push({ key: 'eccErrors', label: 'uncorrected ECC (volatile)', value: String(ecc), level: ecc > 0 ? 'error' : 'ok', note: pending.length ? `row remap pending on GPU ${pending.join(', ')}` : undefined });
  const busy = g.filter((x) => x.processes.length > 0).map((x) => `GPU${x.index}: ${x.processes.map((p) => p.pid).join(',')}`);
  rows.push({ key: 'gpuProcesses', label: 'processes on GPUs', value: busy.length ? busy.join('; ') : 'none', level: busy.length ? 'warn' : 'ok' });
  return rows;
}

function nvlinkRows(r: ExecResult | Error | undefined): DoctorRow[] {
  if (!ok(r)) return [{ key: 'nvlink', label: 'NVLink', value: 'not available', level: 'info', note: `nvidia-smi nvlink -s: ${why(r)}`, compare: true }];
  const gpus = parseNvlinkStatus(r.stdout);
  const total = gpus.reduce((a, g) => a + g.links.length, 0);
  // a single-GPU VM prints nothing and exits 0 (real H200 VM, test/fixtures/doctor/live-h200x1)
  if (total === 0) return [{ key: 'nvlink', label: 'NVLink links up', value: 'no NVLink', level: 'info', compare: true }];
  const up = gpus.reduce((a, g) => a + g.links.filter((l) => l !== null && l !== undefined).length, 0);
  const speeds = uniq(gpus.flatMap((g) => g.links.filter((l): l is number => typeof l === 'number').map((l) => `${l} GB/s`)));
  const down = gpus.filter((g) => g.links.some((l) => l === null)).map((g) => `GPU${g.gpu}`);
  return [{ key: 'nvlink', label: 'NVLink links up', value: `${up}/${total} (${speeds || 'none'})`, level: up < total ? 'error' : 'ok', note: down.length ? `inactive links on ${down.join(', ')}` : undefined, compare: true }];
}

function ibRows(out: Outputs): { rows: DoctorRow[]; ports: IbPort[] } {
  const ports = ok(out.ibstat) ? parseIbstat(out.ibstat.stdout) : ok(out.ibvDevinfo) ? parseIbvDevinfo(out.ibvDevinfo.stdout) : [];
  if (!ok(out.ibstat) && !ok(out.ibvDevinfo)) {
    return { rows: [{ key: 'ibPorts', label: 'InfiniBand / RoCE ports', value: 'none found', level: 'warn', note: `ibstat: ${why(out.ibstat)}; ibv_devinfo: ${why(out.ibvDevinfo)}. Multi-node EP and PD KV transfer need RDMA.`, compare: true }], ports };
  }
  if (ports.length === 0) return { rows: [{ key: 'ibPorts', label: 'InfiniBand / RoCE ports', value: 'none', level: 'warn', note: 'no RDMA devices on this node', compare: true }], ports };
  const active = ports.filter((p) => p.state === 'Active');
  const down = ports.filter((p) => p.state !== 'Active').map((p) => `${p.ca}/${p.port} ${p.state}${p.physicalState ? ` (${p.physicalState})` : ''}`);
  return {
    rows: [
      { key: 'ibPorts', label: 'RDMA ports active', value: `${active.length}/${ports.length}`, level: down.length ? 'error' : 'ok', note: down.length ? down.join('; ') : undefined, compare: true },
      { key: 'ibRate', label: 'port rate', value: uniq(ports.map((p) => (p.rateGbps === undefined ? undefined : `${p.rateGbps} Gb/s`))), level: 'ok', compare: true },
      { key: 'ibLinkLayer', label: 'link layer', value: uniq(ports.map((p) => p.linkLayer)), level: 'ok', compare: true },
      { key: 'ibFirmware', label: 'HCA firmware', value: uniq(ports.map((p) => p.firmware)), level: 'ok', compare: true },
    ],
    ports,
  };
}

/** GPU -> nearest HCA: the topology's NIC columns when it lists NICs, else the same NUMA node */
function affinityRow(topo: GpuTopology | undefined, hcaNuma: Record<string, number>, ports: IbPort[]): DoctorRow | undefined {
  if (!topo || ports.length === 0) return undefined;
  const gpus = topo.devices.filter((d) => d.startsWith('GPU'));
  const pairs: string[] = [];
  const lonely: string[] = [];
  for (const g of gpus) {
    const nics = nearestNics(topo, g);
    if (nics.length) {
      const kind = topo.links[g]?.[nics[0]]?.kind ?? '?';
      pairs.push(`${g}→${nics.map((n) => topo.nicNames[n] ?? n).join('/')} (${kind})`);
      if (kind === 'SYS') lonely.push(g);
      continue;
    }
    const numa = Number(topo.affinity[g]?.numa ?? NaN);
    const same = Object.entries(hcaNuma).filter(([, n]) => n === numa).map(([d]) => d);
    pairs.push(`${g}→${same.length ? same.join('/') : 'none'} (NUMA ${Number.isFinite(numa) ? numa : '?'})`);
    if (!same.length) lonely.push(g);
  }
  return { key: 'hcaAffinity', label: 'nearest HCA per GPU', value: pairs.join(', '), level: lonely.length ? 'warn' : 'ok', note: lonely.length ? `${lonely.join(', ')} reach an HCA only across sockets` : undefined };
}

function engineRow(r: ExecResult | Error | undefined, pkg: string): DoctorRow {
  if (ok(r)) return { key: 'engine', label: `${pkg} version`, value: r.stdout.trim(), level: 'ok', compare: true };
  if (exitOf(r) === 3) return { key: 'engine', label: `${pkg} version`, value: 'not installed', level: 'error', note: `python3 cannot import ${pkg}'s metadata (is the cluster's preamble activating the right environment?)`, compare: true };
  return { key: 'engine', label: `${pkg} version`, value: 'unknown', level: 'warn', note: why(r), compare: true };
}

function nodeRows(cluster: Cluster, node: string, out: Outputs, o: DoctorOptions): DoctorRow[] {
  const expected = cluster.node(node).gpus;
  const inv = ok(out.gpu) ? safe(() => parseGpuInventoryXml((out.gpu as ExecResult).stdout)) : undefined;
  const topo = ok(out.topo) ? safe(() => parseTopology((out.topo as ExecResult).stdout)) : undefined;
  const rows = gpuRows(expected, inv, why(out.gpu));
  const xid = out.xid;
  if (ok(xid)) {
    const x = xidEvents(xid.stdout);
    rows.push({ key: 'xid', label: 'Xid events (kernel log)', value: x.count ? `${x.count} (codes ${x.codes.join(', ')})` : '0', level: x.count ? 'error' : 'ok', note: x.count ? 'see `dmesg | grep Xid`; 79 = fallen off the bus, 48/63/64 = ECC / row remap' : undefined });
  } else rows.push({ key: 'xid', label: 'Xid events (kernel log)', value: 'unknown', level: 'info', note: exitOf(xid) === 3 ? 'kernel log not readable by this user (dmesg_restrict)' : why(xid) });
  rows.push(...nvlinkRows(out.nvlink));
  const ib = ibRows(out);
  rows.push(...ib.rows);
  const aff = affinityRow(topo, ok(out.hcaNuma) ? parseHcaNuma(out.hcaNuma.stdout) : {}, ib.ports);
  if (aff) rows.push(aff);
  if (ok(out.modules)) {
    const mod = peerMemModule(out.modules.stdout);
    rows.push({ key: 'gdr', label: 'GPUDirect RDMA', value: mod ? `yes (${mod})` : 'no', level: mod || ib.ports.length === 0 ? 'ok' : 'warn', note: mod ? undefined : ib.ports.length ? 'load nvidia_peermem: without it KV transfer and DeepEP internode stage through host memory' : undefined, compare: true });
  } else rows.push({ key: 'gdr', label: 'GPUDirect RDMA', value: 'unknown', level: 'info', note: why(out.modules), compare: true });
  if (o.modelPath) {
    const df = ok(out.disk) ? parseDfPosix(out.disk.stdout) : undefined;
    if (!df) rows.push({ key: 'disk', label: `free disk at ${o.modelPath}`, value: 'unknown', level: 'warn', note: why(out.disk) });
    else {
      const freeGB = df.availKiB / 1024 / 1024;
      const short = o.modelSizeGB !== undefined && freeGB < o.modelSizeGB;
      rows.push({ key: 'disk', label: `free disk at ${o.modelPath}`, value: `${freeGB.toFixed(1)} GiB on ${df.mount}`, level: short ? 'error' : 'ok', note: short ? `the model needs ${o.modelSizeGB} GB` : undefined });
    }
  }
  rows.push(engineRow(out.engine, o.enginePackage ?? 'sglang'));
  if (o.ports?.length) {
    if (ok(out.ports)) {
      const listeners = parseListeners(out.ports.stdout);
      // emulated nodes share this host's sockets but each has its own loopback address
      const own = cluster.kind === 'sim' ? cluster.node(node).address : undefined;
      const taken = o.ports.filter((p) => portTaken(listeners, p, own));
      rows.push({ key: 'ports', label: `ports ${o.ports.join(', ')}`, value: taken.length ? `in use: ${taken.join(', ')}` : 'free', level: taken.length ? 'error' : 'ok', note: taken.length ? 'another server (a previous run?) listens there' : undefined });
    } else rows.push({ key: 'ports', label: `ports ${o.ports.join(', ')}`, value: 'unknown', level: 'info', note: `ss -Htln: ${why(out.ports)}` });
  }
  return rows;
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** Facts that must agree: for each, nodes whose value differs from the most common value. */
export function findMismatches(nodes: readonly NodeReport[]): Mismatch[] {
  if (nodes.length < 2) return [];
  const out: Mismatch[] = [];
  const keys = [...new Set(nodes.flatMap((n) => n.rows.filter((r) => r.compare).map((r) => r.key)))];
  for (const key of keys) {
    const values = nodes.map((n) => ({ node: n.node, row: n.rows.find((r) => r.key === key) }));
    const counts = new Map<string, number>();
    for (const v of values) if (v.row) counts.set(v.row.value, (counts.get(v.row.value) ?? 0) + 1);
    if (counts.size < 2) continue;
    const majority = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0][0];
    for (const v of values) if (v.row && v.row.value !== majority) out.push({ key, label: v.row.label, node: v.node, value: v.row.value, majority });
  }
  return out;
}

/** Runs the probes on every node in parallel, then compares the nodes. Never throws for a failed probe. */
export async function runDoctor(cluster: Cluster, o: DoctorOptions = {}): Promise<DoctorReport> {
  const names = o.nodes ?? cluster.nodes.map((n) => n.name);
  // one listener on the caller's signal; every probe of every node waits on this one
  const stop = new AbortController();
  setMaxListeners(16 * names.length + 16, stop.signal);
  const onAbort = (): void => stop.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted) stop.abort();
  const po: DoctorOptions = { ...o, signal: stop.signal };
  try {
    return await doctorNodes(cluster, names, po);
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
}

async function doctorNodes(cluster: Cluster, names: readonly string[], o: DoctorOptions): Promise<DoctorReport> {
  const nodes = await Promise.all(
    names.map(async (node): Promise<NodeReport> => {
      const out = await runProbes(cluster, node, o);
      const rows = nodeRows(cluster, node, out, o);
      if (o.deepepSmoke?.length) {
        let r: ExecResult | Error;
        try {
          r = await cluster.exec(node, o.deepepSmoke, { signal: o.signal, captureLimitBytes: 1 << 20 });
        } catch (err) {
          r = err instanceof Error ? err : new Error(String(err));
        }
        const tail = r instanceof Error ? r.message : (r.stdout + r.stderr).trim().split('\n').slice(-2).join(' / ');
        rows.push({ key: 'deepep', label: 'DeepEP smoke test', value: ok(r) ? 'passed' : 'FAILED', level: ok(r) ? 'ok' : 'error', note: tail.slice(0, 300) || undefined });
      }
      return { node, rows };
    }),
  );
  const mismatches = findMismatches(nodes);
  let level: DoctorLevel = mismatches.length ? 'warn' : 'ok';
  for (const n of nodes) for (const r of n.rows) if (RANK[r.level] > RANK[level]) level = r.level;
  return { nodes, mismatches, level };
}
