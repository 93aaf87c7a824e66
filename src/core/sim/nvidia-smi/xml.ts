import { asctime } from './table';
import type { GpuSnapshot } from './gpus';
import { XML_FOOTER, XML_GPU_TEMPLATE, XML_HEADER } from './q-xml-template';
import { hashString, mix32 } from '../rng';

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => values[k] ?? '');
}

function processXml(g: GpuSnapshot): string {
  return g.processes
    .map((p) => `\t\t\t<process_info>\n\t\t\t\t<gpu_instance_id>N/A</gpu_instance_id>\n\t\t\t\t<compute_instance_id>N/A</compute_instance_id>\n\t\t\t\t<pid>${p.pid}</pid>\n\t\t\t\t<type>C</type>\n\t\t\t\t<process_name>${p.name}</process_name>\n\t\t\t\t<used_memory>${p.usedMiB} MiB</used_memory>\n\t\t\t</process_info>\n`)
    .join('');
}

/** `nvidia-smi -q -x`: the real driver's XML with this node's live values */
export function renderXml(node: string, gpus: GpuSnapshot[], now: Date): string {
  let out = fill(XML_HEADER, { timestamp: asctime(now), count: String(gpus.length) });
  for (const g of gpus) {
    const h = mix32(hashString(node), g.index);
    out += fill(XML_GPU_TEMPLATE, {
      busId: g.busId,
      serial: g.serial,
      uuid: g.uuid,
      pdi: `0x${h.toString(16).padStart(8, '0')}${mix32(h).toString(16).padStart(8, '0')}`,
      minor: String(g.index),
      boardId: `0x${(6 + g.index).toString(16)}`,
      moduleId: String(g.index + 1),
      pciDevice: g.pciDevice,
      txKBs: String(g.utilPct > 0 ? 900 + g.utilPct * 3 : 0),
      rxKBs: String(g.utilPct > 0 ? 500 + g.utilPct * 2 : 0),
      reasonIdle: g.processes.length === 0 ? 'Active' : 'Not Active',
      reasonSwPowerCap: g.swPowerCap ? 'Active' : 'Not Active',
      memUsed: String(g.memUsedMiB),
      memFree: String(g.memFreeMiB),
      util: String(g.utilPct),
      memUtil: String(g.memUtilPct),
      gpuTemp: String(g.tempC),
      memTemp: String(g.memTempC),
      powerAvg: g.powerAvgW.toFixed(2),
      powerInst: g.powerW.toFixed(2),
      smClock: String(g.smClockMHz),
      processes: processXml(g),
    });
    out += '\n';
  }
  return out + XML_FOOTER;
}
