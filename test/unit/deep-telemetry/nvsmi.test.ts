import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { DmonPcieParser, dmonPcieArgv } from '../../../src/core/telemetry/deep/nvsmi/dmon-pcie';
import { nvlinkLoopArgv, nvlinkRates, parseNvlinkCounters, tickNodeMs } from '../../../src/core/telemetry/deep/nvsmi/nvlink-counters';
import { execLocal } from '../../../src/core/launch/local/local-exec';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { FIXTURES, fixture } from './helpers';

test('real H200 NVLink counters: 18 links per GPU, idle zeros, GPU0 sends and GPU1 receives under load', () => {
  const idle = parseNvlinkCounters(fixture('h200x4/nvlink-gt-d-idle.txt'));
  const load = parseNvlinkCounters(fixture('h200x4/nvlink-gt-d-load2.txt'));
  assert.equal(idle.gpus.size, 4);
  assert.deepEqual(idle.gpus.get(0), { txKiB: 0, rxKiB: 0, links: 18 });
  const g0 = load.gpus.get(0);
  const g1 = load.gpus.get(1);
  assert.ok(g0 && g1);
  assert.equal(g0.txKiB, 556041092);
  assert.equal(g0.rxKiB, 0);
  assert.equal(g1.rxKiB, 560029859);
  assert.equal(load.gpus.get(3)?.txKiB, 0);
});

test('NVLink rates come from counter deltas over the node-clock interval', () => {
  const a = parseNvlinkCounters(fixture('h200x4/nvlink-gt-d-load1.txt'));
  const b = parseNvlinkCounters(fixture('h200x4/nvlink-gt-d-load2.txt'));
  const r = nvlinkRates(a, b, 4);
  assert.equal(Math.round((r.get(0)?.txGBps ?? 0) * 10) / 10, 142.3);
  assert.equal(r.get(2)?.txGBps, 0);
  // counters that go back (driver reload) give no rate rather than a negative one
  assert.deepEqual([...nvlinkRates(b, a, 4).keys()], [2, 3]);
  assert.equal(nvlinkRates(a, b, 0).size, 0);
});

test('tick lines carry the node clock in nanoseconds; a date without %N gives none', () => {
  assert.equal(tickNodeMs('@moebench-tick 1700000000123456789'), 1700000000123.4568);
  assert.equal(tickNodeMs('@moebench-tick 1700000000N'), undefined);
});

test('the NVLink loop is one fixed script that prints a node-clock tick before each read', async () => {
  const argv = nvlinkLoopArgv(100);
  assert.deepEqual(argv.slice(0, 2), ['sh', '-c']);
  assert.deepEqual(argv.slice(3), ['moebench-nvlink', '0.1']);
  const bin = await mkdtemp(path.join(os.tmpdir(), 'moebench-nvlink-'));
  try {
    await writeFile(path.join(bin, 'nvidia-smi'), `#!/bin/sh\n[ "$1 $2 $3" = "nvlink -gt d" ] || exit 2\ncat ${JSON.stringify(path.join(FIXTURES, 'h200x4/nvlink-gt-d-load2.txt'))}\n`);
    await chmod(path.join(bin, 'nvidia-smi'), 0o755);
    const ac = new AbortController();
    let out = '';
    const run = execLocal(argv, { env: { PATH: `${bin}:/usr/bin:/bin` }, signal: ac.signal, onStdout: (c) => {
      out += c;
      if ((out.match(/@moebench-tick/g) ?? []).length >= 3) ac.abort();
    } }).catch(() => undefined);
    await run;
    const ticks = out.split('\n').filter((l) => l.startsWith('@moebench-tick'));
    assert.ok(ticks.length >= 3);
    assert.ok(ticks.every((t) => tickNodeMs(t) !== undefined), 'GNU date prints nanoseconds');
    const reads = out.split('@moebench-tick').slice(1, 3).map((block) => parseNvlinkCounters(block));
    assert.equal(reads[0].gpus.get(0)?.txKiB, 556041092);
  } finally {
    await rm(bin, { recursive: true, force: true });
  }
});

test('PCIe throughput from the real H200 dmon (full column set) and from `dmon -s t`', () => {
  const p = new DmonPcieParser();
  const rows = fixture('h200x4/dmon.txt').split('\n').map((l) => p.parseLine(l)).filter((r) => r && r !== 'header');
  assert.equal(rows.length, 16);
  assert.deepEqual(rows[3], { index: 3, rxGBps: 0.049, txGBps: 0.012 });
  const q = new DmonPcieParser();
  q.parseLine('# gpu  rxpci  txpci');
  q.parseLine('# Idx   MB/s   MB/s');
  assert.deepEqual(q.parseLine('    0   1500      -'), { index: 0, rxGBps: 1.5 });
  assert.deepEqual(dmonPcieArgv(250), ['nvidia-smi', 'dmon', '-s', 't', '-d', '1']);
});
