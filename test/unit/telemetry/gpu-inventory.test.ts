import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { findLeakedProcesses, parseComputeApps } from '../../../src/core/telemetry/gpu/compute-apps';
import { parseGpuInventoryXml } from '../../../src/core/telemetry/gpu/inventory';
import { nearestNics, parseTopology } from '../../../src/core/telemetry/gpu/topology';
import { parseXml, XmlParseError } from '../../../src/core/telemetry/gpu/xml';
import { fixture } from './helpers';

test('inventory from H200 `-q -x`: names, UUIDs, memory, power limits, clocks and PCIe', () => {
  const inv = parseGpuInventoryXml(fixture('nvidia-smi/h200x2/q.xml'));
  assert.equal(inv.driverVersion, '580.159.04');
  assert.equal(inv.cudaVersion, '13.0');
  assert.equal(inv.gpus.length, 2);
  const g = inv.gpus[0];
  assert.equal(g.index, 0);
  assert.equal(g.name, 'NVIDIA H200');
  assert.equal(g.uuid, 'GPU-17bf24af-627d-c5b7-ad4f-c1d7e3b2638b');
  assert.equal(g.busId, '00000000:00:06.0');
  assert.equal(g.architecture, 'Hopper');
  assert.equal(g.memTotalMiB, 143771);
  assert.equal(g.powerLimitW, 700);
  assert.equal(g.powerLimitMinW, 200);
  assert.equal(g.powerLimitMaxW, 700);
  assert.equal(g.maxSmClockMHz, 1980);
  assert.equal(g.maxMemClockMHz, 3201);
  assert.equal(g.pcieGenMax, 5);
  assert.equal(g.pcieWidthCurrent, 16);
  assert.equal(g.migEnabled, false);
  assert.equal(g.eccEnabled, true);
  assert.equal(g.eccUncorrectedVolatile, 0);
  assert.deepEqual(g.processes, []);
  assert.equal(inv.gpus[1].uuid, 'GPU-3b1aca1e-497a-9947-d29d-7aee1324ac0a');
});

test('inventory under load lists the processes holding memory on each GPU', () => {
  const inv = parseGpuInventoryXml(fixture('nvidia-smi/h200x4/q-load.xml'));
  assert.equal(inv.gpus.length, 4);
  assert.deepEqual(inv.gpus[0].processes, [{ pid: 852, name: 'python3', usedMemMiB: 2156 }]);
  assert.deepEqual(inv.gpus[3].processes.map((p) => p.pid).sort(), [852, 853]);
});

test('older driver spelling (power_readings/power_limit, double_bit ECC) is read too', () => {
  const xml = `<?xml version="1.0" ?><!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v11.dtd">
<nvidia_smi_log><driver_version>470.82.01</driver_version>
<gpu id="00000000:3B:00.0"><product_name>Tesla V100-SXM2-32GB</product_name><uuid>GPU-aaaa</uuid>
<fb_memory_usage><total>32510 MiB</total></fb_memory_usage>
<ecc_errors><volatile><double_bit><device_memory>3</device_memory></double_bit></volatile></ecc_errors>
<power_readings><power_limit>300.00 W</power_limit><default_power_limit>N/A</default_power_limit></power_readings>
<processes></processes></gpu></nvidia_smi_log>`;
  const g = parseGpuInventoryXml(xml).gpus[0];
  assert.equal(g.powerLimitW, 300);
  assert.equal(g.powerLimitDefaultW, undefined);
  assert.equal(g.eccUncorrectedVolatile, 3);
  assert.equal(g.busId, '00000000:3B:00.0');
});

test('XML reader: entities, CDATA, comments, self-closing tags; broken documents are refused', () => {
  const el = parseXml('<?xml version="1.0"?><!-- c --><a x="1 &amp; 2"><b>&lt;tag&gt; &#65;</b><c/><d><![CDATA[<raw> & ]]></d></a>');
  assert.equal(el.attrs.x, '1 & 2');
  assert.equal(el.children[0].text, '<tag> A');
  assert.equal(el.children[1].name, 'c');
  assert.equal(el.children[2].text, '<raw> &');
  assert.throws(() => parseXml('<a><b></a>'), XmlParseError);
  assert.throws(() => parseXml('<a>'), XmlParseError);
  assert.throws(() => parseGpuInventoryXml('Failed to initialize NVML: Driver/library version mismatch'), XmlParseError);
});

test('topology: NV18 between the H200s, CPU/NUMA affinity despite the ANSI-underlined header', () => {
  const t = parseTopology(fixture('nvidia-smi/h200x4/topo.txt'));
  assert.deepEqual(t.devices, ['GPU0', 'GPU1', 'GPU2', 'GPU3']);
  assert.equal(t.links.GPU0.GPU3.kind, 'NV');
  assert.equal(t.links.GPU0.GPU3.nvlinks, 18);
  assert.equal(t.links.GPU2.GPU2.kind, 'X');
  assert.deepEqual(t.affinity.GPU1, { cpus: '0-63', numa: '0', gpuNumaId: undefined });
});

test('topology with NICs: each GPU maps to its closest NIC and NIC names come from the legend', () => {
  const text = [
    '\t\x1b[4mGPU0\tGPU1\tNIC0\tNIC1\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID\x1b[0m',
    'GPU0\t X \tNV18\tPIX\tSYS\t0-47\t0\t\tN/A',
    'GPU1\tNV18\t X \tSYS\tPXB\t48-95\t1\t\tN/A',
    'NIC0\tPIX\tSYS\t X \tSYS',
    'NIC1\tSYS\tPXB\tSYS\t X ',
    '',
    'NIC Legend:',
    '',
    '  NIC0: mlx5_0',
    '  NIC1: mlx5_1',
  ].join('\n');
  const t = parseTopology(text);
  assert.deepEqual(nearestNics(t, 'GPU0'), ['NIC0']);
  assert.deepEqual(nearestNics(t, 'GPU1'), ['NIC1']);
  assert.equal(t.nicNames.NIC1, 'mlx5_1');
  assert.equal(t.affinity.GPU1.cpus, '48-95');
});

test('compute apps: a process spanning 4 GPUs plus a second one; leak check maps UUIDs to indexes', () => {
  const apps = parseComputeApps(fixture('nvidia-smi/h200x4/apps.csv'));
  assert.equal(apps.length, 5);
  assert.deepEqual(apps[4], { gpuUuid: 'GPU-66aca1d8-cda3-e557-2a0f-09986e55bf11', pid: 853, processName: 'python3', usedMemMiB: 776 });
  const inv = parseGpuInventoryXml(fixture('nvidia-smi/h200x4/q-load.xml'));
  const leaks = findLeakedProcesses(apps, inv, [852]);
  assert.deepEqual(leaks, [{ gpuUuid: 'GPU-66aca1d8-cda3-e557-2a0f-09986e55bf11', gpuIndex: 3, pid: 853, processName: 'python3', usedMemMiB: 776 }]);
  assert.deepEqual(parseComputeApps('No running processes found\n'), []);
  assert.deepEqual(parseComputeApps('GPU-1, 77, python3 -m sglang, launch, [N/A]\n'), [{ gpuUuid: 'GPU-1', pid: 77, processName: 'python3 -m sglang, launch', usedMemMiB: undefined }]);
});
