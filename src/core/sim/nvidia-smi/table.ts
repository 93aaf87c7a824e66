import { H200_FACTS, type GpuSnapshot } from './gpus';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Sat Nov 28 17:28:13 2026" (C asctime without the newline) */
export function asctime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
}

const LINE = '+-----------------------------------------------------------------------------------------+';
const GRID = '+-----------------------------------------+------------------------+----------------------+';

/** `nvidia-smi` with no arguments: the summary table, laid out exactly as driver 580 does */
export function renderTable(gpus: GpuSnapshot[], now: Date): string {
  const f = H200_FACTS;
  const out: string[] = [
    `${asctime(now)}       `,
    LINE,
    `| NVIDIA-SMI ${f.driverVersion}             Driver Version: ${f.driverVersion}     CUDA Version: ${f.cudaVersion}     |`,
    GRID,
    '| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |',
    '| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |',
    '|                                         |                        |               MIG M. |',
    '|=========================================+========================+======================|',
  ];
  for (const g of gpus) {
    out.push(`|${String(g.index).padStart(4)}  ${f.name.padEnd(31)}On  |   ${g.busId} Off |${'0'.padStart(21)} |`);
    out.push(`| N/A${`${g.tempC}C`.padStart(6)}${'P0'.padStart(6)}${`${Math.round(g.powerW)}W`.padStart(16)} / ${`${f.powerLimitW}W`.padStart(5)} |${`${g.memUsedMiB}MiB`.padStart(11)} / ${f.memoryTotalMiB}MiB |${`${g.utilPct}%`.padStart(8)}      Default |`);
    out.push('|                                         |                        |             Disabled |');
    out.push(GRID);
  }
  out.push('');
  out.push(LINE);
  out.push('| Processes:                                                                              |');
  out.push('|  GPU   GI   CI              PID   Type   Process name                        GPU Memory |');
  out.push('|        ID   ID                                                               Usage      |');
  out.push('|=========================================================================================|');
  const procs = gpus.flatMap((g) => g.processes.map((p) => ({ g, p })));
  if (procs.length === 0) out.push('|  No running processes found                                                             |');
  for (const { g, p } of procs) {
    const mem = `${p.usedMiB}MiB`;
    out.push(`|${String(g.index).padStart(5)}   N/A  N/A${String(p.pid).padStart(16)}      C   ${p.name.padEnd(46 - mem.length)}${mem} |`);
  }
  out.push(LINE);
  return out.join('\n') + '\n';
}

/** `nvidia-smi -L` */
export function renderList(gpus: GpuSnapshot[]): string {
  return gpus.map((g) => `GPU ${g.index}: ${H200_FACTS.name} (UUID: ${g.uuid})`).join('\n') + '\n';
}

/**
 * `nvidia-smi nvlink -s`: 18 NVLink 4 links per H200 at 26.562 GB/s, as the real H200 captures
 * print them (test/fixtures/nvidia-smi/h200x2/nvlink-s.txt); a lone GPU has no NVLink and the
 * real driver prints nothing (test/fixtures/doctor/live-h200x1/nvlink.out).
 */
export function renderNvlinkStatus(gpus: GpuSnapshot[], totalGpus: number): string {
  if (totalGpus <= 1) return '';
  return gpus.map((g) => `GPU ${g.index}: ${H200_FACTS.name} (UUID: ${g.uuid})\n` + Array.from({ length: 18 }, (_, k) => `\t Link ${k}: 26.562 GB/s\n`).join('')).join('');
}

const LEGEND = `
Legend:

  X    = Self
  SYS  = Connection traversing PCIe as well as the SMP interconnect between NUMA nodes (e.g., QPI/UPI)
  NODE = Connection traversing PCIe as well as the interconnect between PCIe Host Bridges within a NUMA node
  PHB  = Connection traversing PCIe as well as a PCIe Host Bridge (typically the CPU)
  PXB  = Connection traversing multiple PCIe bridges (without traversing the PCIe Host Bridge)
  PIX  = Connection traversing at most a single PCIe bridge
  NV#  = Connection traversing a bonded set of # NVLinks
`;

/** `nvidia-smi topo -m`: NV18 all-to-all (H200 HGX), CPUs split over NUMA nodes on 8-GPU boards */
export function renderTopo(gpuCount: number): string {
  const names = Array.from({ length: gpuCount }, (_, i) => `GPU${i}`);
  let out = `\t\x1b[4m${names.join('\t')}\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID\x1b[0m\n`;
  const twoSockets = gpuCount >= 8;
  const cpusPerNuma = twoSockets ? 48 : 16 * gpuCount;
  for (let i = 0; i < gpuCount; i++) {
    const cells = names.map((_, j) => (i === j ? ' X ' : 'NV18'));
    const numa = twoSockets && i >= gpuCount / 2 ? 1 : 0;
    const cpus = `${numa * cpusPerNuma}-${numa * cpusPerNuma + cpusPerNuma - 1}`;
    out += `GPU${i}\t${cells.join('\t')}\t${cpus}\t${numa}\t\tN/A\n`;
  }
  return out + LEGEND;
}
