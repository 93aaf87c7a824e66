/**
 * Parsers for the command outputs the preflight doctor reads on each node. Formats:
 * `nvidia-smi nvlink -s` and `topo -m` as the real H200 captures show them
 * (test/fixtures/nvidia-smi/); `ibstat` and `ibv_devinfo` as infiniband-diags / rdma-core print
 * them (documented layouts, test/fixtures/doctor/README.md); `df -P`, `ss -Htln`, /proc/modules.
 */

export interface NvlinkGpu {
  gpu: number;
  /** per link: GB/s when up, null when `<inactive>` */
  links: (number | null)[];
}

/** `nvidia-smi nvlink -s`: "GPU 0: NVIDIA H200 (UUID: ...)" then "\t Link 3: 26.562 GB/s" or "Link 3: <inactive>" */
export function parseNvlinkStatus(text: string): NvlinkGpu[] {
  const out: NvlinkGpu[] = [];
  let cur: NvlinkGpu | undefined;
  for (const line of text.split('\n')) {
    const g = /^GPU (\d+):/.exec(line);
    if (g) {
      cur = { gpu: Number(g[1]), links: [] };
      out.push(cur);
      continue;
    }
    const l = /^\s*Link (\d+):\s*(.*)$/.exec(line);
    if (l && cur) {
      const speed = /([\d.]+)\s*GB\/s/.exec(l[2]);
      cur.links[Number(l[1])] = speed ? Number(speed[1]) : null;
    }
  }
  return out;
}

export interface IbPort {
  ca: string;
  port: number;
  /** "Active", "Down", "Initializing", "Armed" (ibstat) or PORT_ACTIVE... mapped to the same words */
  state: string;
  physicalState?: string;
  /** Gb/s as ibstat prints it ("Rate: 400"); undefined from ibv_devinfo without -v */
  rateGbps?: number;
  linkLayer?: string;
  firmware?: string;
}

/** `ibstat` (infiniband-diags): CA blocks with indented `Port N:` blocks. */
export function parseIbstat(text: string): IbPort[] {
  const ports: IbPort[] = [];
  let ca: string | undefined;
  let firmware: string | undefined;
  let port: IbPort | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const c = /^CA '([^']+)'/.exec(line);
    if (c) {
      ca = c[1];
      firmware = undefined;
      port = undefined;
      continue;
    }
    if (!ca) continue;
    const p = /^Port (\d+):$/.exec(line);
    if (p) {
      port = { ca, port: Number(p[1]), state: 'unknown', firmware };
      ports.push(port);
      continue;
    }
    const kv = /^([^:]+):\s*(.*)$/.exec(line);
    if (!kv) continue;
    const [, key, value] = kv;
    if (!port) {
      if (key === 'Firmware version') firmware = value;
      continue;
    }
    if (key === 'State') port.state = value;
    else if (key === 'Physical state') port.physicalState = value;
    else if (key === 'Rate') port.rateGbps = Number(value);
    else if (key === 'Link layer') port.linkLayer = value;
  }
  return ports;
}

const IBV_STATES: Record<string, string> = { PORT_ACTIVE: 'Active', PORT_DOWN: 'Down', PORT_INIT: 'Initializing', PORT_ARMED: 'Armed', PORT_ACTIVE_DEFER: 'Active' };

/** `ibv_devinfo` (rdma-core): "hca_id:\tmlx5_0", then "\t\tport:\t1" blocks with state / link_layer. */
export function parseIbvDevinfo(text: string): IbPort[] {
  const ports: IbPort[] = [];
  let ca: string | undefined;
  let firmware: string | undefined;
  let port: IbPort | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const h = /^hca_id:\s*(\S+)/.exec(line);
    if (h) {
      ca = h[1];
      firmware = undefined;
      port = undefined;
      continue;
    }
    if (!ca) continue;
    const kv = /^([a-z_]+):\s*(.*)$/.exec(line);
    if (!kv) continue;
    const [, key, value] = kv;
    if (key === 'fw_ver') firmware = value;
    else if (key === 'port') {
      port = { ca, port: Number(value), state: 'unknown', firmware };
      ports.push(port);
    } else if (port && key === 'state') {
      const word = value.split(/\s/)[0];
      port.state = IBV_STATES[word] ?? word;
    } else if (port && key === 'link_layer') port.linkLayer = value;
  }
  return ports;
}

/** `df -P -k PATH`: the data line's "Available" column (KiB) and mount point. */
export function parseDfPosix(text: string): { availKiB: number; mount: string } | undefined {
  const lines = text.trim().split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return undefined;
  // a long device name wraps onto its own line in some df builds: join the tail
  const cells = lines.slice(1).join(' ').trim().split(/\s+/);
  if (cells.length < 6) return undefined;
  const avail = Number(cells[3]);
  return Number.isFinite(avail) ? { availKiB: avail, mount: cells.slice(5).join(' ') } : undefined;
}

/** `ss -Htln`: listening sockets as (local address, port); IPv4 "a.b.c.d:port", IPv6 "[::]:port", "*:port". */
export function parseListeners(text: string): { address: string; port: number }[] {
  const out: { address: string; port: number }[] = [];
  for (const line of text.split('\n')) {
    const cells = line.trim().split(/\s+/);
    if (cells.length < 4) continue;
    const local = cells[0] === 'LISTEN' ? cells[3] : cells[2];
    const m = /^(.*):(\d+)$/.exec(local ?? '');
    if (m) out.push({ address: m[1].replace(/^\[|\]$/g, '').replace(/%.*$/, ''), port: Number(m[2]) });
  }
  return out;
}

export function parseListeningPorts(text: string): Set<number> {
  return new Set(parseListeners(text).map((l) => l.port));
}

/** a listener blocks a server binding `port` on `address` unless both are distinct specific addresses */
export function portTaken(listeners: readonly { address: string; port: number }[], port: number, address?: string): boolean {
  const wildcard = (a: string) => a === '*' || a === '0.0.0.0' || a === '::';
  return listeners.some((l) => l.port === port && (address === undefined || wildcard(l.address) || wildcard(address) || l.address === address));
}

/** GPUDirect RDMA needs the peer-memory module: nvidia_peermem (driver >= 465) or the older nv_peer_mem. */
export function peerMemModule(procModules: string): string | undefined {
  for (const line of procModules.split('\n')) {
    const name = line.split(/\s/)[0];
    if (name === 'nvidia_peermem' || name === 'nv_peer_mem') return name;
  }
  return undefined;
}

/** Kernel log lines with NVIDIA Xid events ("NVRM: Xid (PCI:0000:00:06): 79, ..."); codes counted. */
export function xidEvents(kernelLog: string): { count: number; codes: number[] } {
  const codes: number[] = [];
  for (const m of kernelLog.matchAll(/NVRM: Xid \([^)]*\): (\d+)/g)) codes.push(Number(m[1]));
  return { count: codes.length, codes: [...new Set(codes)].sort((a, b) => a - b) };
}

/** "mlx5_0 0\nmlx5_1 1\n" from the fixed sysfs script: HCA -> NUMA node (-1 = unknown) */
export function parseHcaNuma(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [dev, numa] = line.trim().split(/\s+/);
    if (dev && numa !== undefined && /^-?\d+$/.test(numa)) out[dev] = Number(numa);
  }
  return out;
}
