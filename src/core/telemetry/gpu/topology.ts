/**
 * `nvidia-smi topo -m`: the GPU/NIC connection matrix. Header cells are tab-separated and the
 * real output wraps the header in ANSI underline codes (ESC[4m ... ESC[0m, see the H200
 * capture); rows carry an extra empty cell before "GPU NUMA ID", so affinity cells are taken as
 * the non-empty cells after the device columns.
 */
export type LinkKind = 'X' | 'NV' | 'PIX' | 'PXB' | 'PHB' | 'NODE' | 'SYS' | 'unknown';

export interface TopoLink {
  /** the cell as printed ("NV18", "SYS") */
  raw: string;
  kind: LinkKind;
  /** bonded NVLinks for NV#, else 0 */
  nvlinks: number;
}

export interface GpuTopology {
  /** device names in column order: "GPU0", "GPU1", "NIC0"... */
  devices: string[];
  /** links[a][b] for every pair of devices */
  links: Record<string, Record<string, TopoLink>>;
  /** per GPU row: CPU and NUMA affinity as printed ("0-31", "0"), absent when N/A */
  affinity: Record<string, { cpus?: string; numa?: string; gpuNumaId?: string }>;
  /** "NIC0" -> "mlx5_0" from the NIC legend */
  nicNames: Record<string, string>;
}

const ANSI = /\x1b\[[0-9;]*m/g;
const DEVICE = /^(GPU|NIC)\d+$/;

export function linkOf(raw: string): TopoLink {
  const cell = raw.trim();
  const nv = /^NV(\d+)$/.exec(cell);
  if (nv) return { raw: cell, kind: 'NV', nvlinks: Number(nv[1]) };
  const kinds: LinkKind[] = ['X', 'PIX', 'PXB', 'PHB', 'NODE', 'SYS'];
  const kind = kinds.find((k) => k === cell) ?? 'unknown';
  return { raw: cell, kind, nvlinks: 0 };
}

export function parseTopology(text: string): GpuTopology {
  const lines = text.replace(ANSI, '').split(/\r?\n/);
  const topo: GpuTopology = { devices: [], links: {}, affinity: {}, nicNames: {} };
  let headerSeen = false;
  for (const line of lines) {
    const cells = line.split('\t').map((c) => c.trim());
    if (!headerSeen) {
      const devs = cells.filter((c) => DEVICE.test(c));
      if (devs.length > 0 && !DEVICE.test(cells[0])) {
        topo.devices = devs;
        headerSeen = true;
      }
      continue;
    }
    const legend = /^\s*(NIC\d+)\s*:\s*(\S+)\s*$/.exec(line);
    if (legend) {
      topo.nicNames[legend[1]] = legend[2];
      continue;
    }
    const row = cells[0];
    if (!DEVICE.test(row)) continue;
    const linkCells = cells.slice(1, 1 + topo.devices.length);
    const links: Record<string, TopoLink> = {};
    topo.devices.forEach((d, i) => {
      links[d] = linkOf(linkCells[i] ?? '');
    });
    topo.links[row] = links;
    if (row.startsWith('GPU')) {
      const rest = cells.slice(1 + topo.devices.length).filter((c) => c !== '');
      const na = (v: string | undefined) => (v === undefined || v === 'N/A' ? undefined : v);
      topo.affinity[row] = { cpus: na(rest[0]), numa: na(rest[1]), gpuNumaId: na(rest[2]) };
    }
  }
  return topo;
}

const CLOSENESS: Record<LinkKind, number> = { X: 0, NV: 1, PIX: 2, PXB: 3, PHB: 4, NODE: 5, SYS: 6, unknown: 7 };

/** NICs closest to a GPU (best PCIe path), e.g. to map IB counters to the GPUs that use them. */
export function nearestNics(topo: GpuTopology, gpu: string): string[] {
  const row = topo.links[gpu];
  if (!row) return [];
  const nics = topo.devices.filter((d) => d.startsWith('NIC'));
  if (nics.length === 0) return [];
  const best = Math.min(...nics.map((n) => CLOSENESS[row[n]?.kind ?? 'unknown']));
  return nics.filter((n) => CLOSENESS[row[n]?.kind ?? 'unknown'] === best);
}
