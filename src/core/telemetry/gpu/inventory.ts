import { isNotAvailable, parseLeadingNumber } from './fields';
import { child, childText, children, parseXml, XmlParseError, type XmlElement } from './xml';

export interface GpuProcessInfo {
  pid: number;
  name: string;
  usedMemMiB?: number;
}

/** What does not change while a node runs: read once from `nvidia-smi -q -x`. */
export interface GpuInventoryEntry {
  /** nvidia-smi index = position in the XML (PCI bus order) */
  index: number;
  name: string;
  uuid: string;
  busId: string;
  serial?: string;
  architecture?: string;
  vbios?: string;
  memTotalMiB?: number;
  powerLimitW?: number;
  powerLimitDefaultW?: number;
  powerLimitMinW?: number;
  powerLimitMaxW?: number;
  maxSmClockMHz?: number;
  maxMemClockMHz?: number;
  pcieGenMax?: number;
  pcieGenCurrent?: number;
  pcieWidthMax?: number;
  pcieWidthCurrent?: number;
  migEnabled?: boolean;
  eccEnabled?: boolean;
  persistenceMode?: boolean;
  computeMode?: string;
  /** DRAM uncorrectable ECC errors since boot; >0 deserves a warning */
  eccUncorrectedVolatile?: number;
  remappedRowPending?: boolean;
  processes: GpuProcessInfo[];
}

export interface GpuInventory {
  driverVersion?: string;
  cudaVersion?: string;
  gpus: GpuInventoryEntry[];
}

function num(el: XmlElement | undefined, path: string): number | undefined {
  const t = childText(el, path);
  return t === undefined || isNotAvailable(t) ? undefined : parseLeadingNumber(t);
}

function str(el: XmlElement | undefined, path: string): string | undefined {
  const t = childText(el, path);
  return t === undefined || isNotAvailable(t) ? undefined : t;
}

function flag(el: XmlElement | undefined, path: string, yes: string): boolean | undefined {
  const t = str(el, path);
  return t === undefined ? undefined : t.toLowerCase() === yes.toLowerCase();
}

function firstNum(el: XmlElement, paths: string[]): number | undefined {
  for (const p of paths) {
    const v = num(el, p);
    if (v !== undefined) return v;
  }
  return undefined;
}

/**
 * Parse `nvidia-smi -q -x`. Power readings moved from `power_readings` (drivers < 530) to
 * `gpu_power_readings`, and ECC counters from `volatile/double_bit/device_memory` to
 * `volatile/dram_uncorrectable` (driver 580 in the H200 capture); both spellings are read.
 */
export function parseGpuInventoryXml(xml: string): GpuInventory {
  let doc: XmlElement;
  try {
    doc = parseXml(xml);
  } catch (err) {
    throw new XmlParseError(`nvidia-smi -q -x output is not valid XML: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (doc.name !== 'nvidia_smi_log') throw new XmlParseError(`expected <nvidia_smi_log>, got <${doc.name}>`);
  const gpus = children(doc, 'gpu').map((g, index): GpuInventoryEntry => {
    const power = child(g, 'gpu_power_readings') ?? child(g, 'power_readings');
    const link = child(g, 'pci/pci_gpu_link_info');
    return {
      index,
      name: str(g, 'product_name') ?? 'unknown GPU',
      uuid: str(g, 'uuid') ?? '',
      busId: g.attrs.id ?? str(g, 'pci/pci_bus_id') ?? '',
      serial: str(g, 'serial'),
      architecture: str(g, 'product_architecture'),
      vbios: str(g, 'vbios_version'),
      memTotalMiB: num(g, 'fb_memory_usage/total'),
      powerLimitW: power ? firstNum(power, ['current_power_limit', 'power_limit', 'enforced_power_limit']) : undefined,
      powerLimitDefaultW: num(power, 'default_power_limit'),
      powerLimitMinW: num(power, 'min_power_limit'),
      powerLimitMaxW: num(power, 'max_power_limit'),
      maxSmClockMHz: num(g, 'max_clocks/sm_clock'),
      maxMemClockMHz: num(g, 'max_clocks/mem_clock'),
      pcieGenMax: num(link, 'pcie_gen/max_link_gen'),
      pcieGenCurrent: num(link, 'pcie_gen/current_link_gen'),
      pcieWidthMax: num(link, 'link_widths/max_link_width'),
      pcieWidthCurrent: num(link, 'link_widths/current_link_width'),
      migEnabled: flag(g, 'mig_mode/current_mig', 'Enabled'),
      eccEnabled: flag(g, 'ecc_mode/current_ecc', 'Enabled'),
      persistenceMode: flag(g, 'persistence_mode', 'Enabled'),
      computeMode: str(g, 'compute_mode'),
      eccUncorrectedVolatile: firstNum(g, ['ecc_errors/volatile/dram_uncorrectable', 'ecc_errors/volatile/double_bit/device_memory', 'ecc_errors/volatile/double_bit/total']),
      remappedRowPending: flag(g, 'remapped_rows/remapped_row_pending', 'Yes'),
      processes: children(child(g, 'processes'), 'process_info').map((p) => ({
        pid: num(p, 'pid') ?? -1,
        name: str(p, 'process_name') ?? '',
        usedMemMiB: num(p, 'used_memory'),
      })),
    };
  });
  return { driverVersion: str(doc, 'driver_version'), cudaVersion: str(doc, 'cuda_version'), gpus };
}
