import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planCommand } from '../../../src/cli/commands/plan';
import { serializeNotebook } from '../../../src/core/notebook/format';
import { fixture } from './helpers';

async function runPlan(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const origOut = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((err += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await planCommand(args);
    return { code, out, err };
  } finally {
    process.stdout.write = origOut;
    process.stderr.write = origErr;
  }
}

function notebook(dir: string, deploySources: string[]): string {
  const file = join(dir, 'pd.moebench');
  const cluster = ['name: h100-13', 'kind: ssh', 'gpusPerNode: 8', `nodes: [${Array.from({ length: 13 }, (_, i) => `gpu-${String(i + 1).padStart(2, '0')}`).join(', ')}]`].join('\n');
  writeFileSync(
    file,
    serializeNotebook({
      metadata: {},
      cells: [
        { kind: 'markdown', language: 'markdown', source: '# 4P9D' },
        { kind: 'code', language: 'moebench-cluster', source: cluster },
        ...deploySources.map((source) => ({ kind: 'code' as const, language: 'moebench-deploy', source })),
      ],
    }),
  );
  return file;
}

test('moebench plan prints every node\'s commands for a deploy cell, touching nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-plan-'));
  try {
    const file = notebook(dir, [fixture('deploy-4p9d.yaml')]);
    const r = await runPlan([file, '--cell', 'ds-4p9d']);
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
    assert.equal((r.out.match(/^## node gpu-\d\d$/gm) ?? []).length, 13);
    assert.match(r.out, /^env MC_TE_METRIC=true SGLANG_TBO_DEBUG=0 python3 -m sglang\.launch_server .*--dist-init-addr gpu-01:5757 --nnodes 4 --node-rank 3 /m);
    assert.match(r.out, /^python3 -m sglang_router\.launch_router --pd-disaggregation --prefill http:\/\/gpu-01:30000 8998 --decode http:\/\/gpu-05:30000 --host 0\.0\.0\.0 --port 8000$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('moebench plan reports a broken deployment with the cell line and exits 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-plan-'));
  try {
    const broken = fixture('deploy-4p9d.yaml').replace('moeDenseTp: 1, dpLmHead: true }\n  moe: { mode: normal', 'moeDenseTp: 4, dpLmHead: true }\n  moe: { mode: normal');
    const file = notebook(dir, [broken]);
    const r = await runPlan([file]);
    assert.equal(r.code, 1);
    const line = broken.split('\n').findIndex((l) => l.includes('moeDenseTp: 4')) + 1;
    assert.match(r.err, new RegExp(`cell "ds-4p9d", line ${line}, column \\d+, field prefill\\.parallel\\.moeDenseTp: error: moeDenseTp must be 1 or tp \\(32\\)`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('moebench plan names the deploy cells when --cell matches none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-plan-'));
  try {
    const file = notebook(dir, [fixture('deploy-4p9d.yaml')]);
    const r = await runPlan([file, '--cell', 'nope']);
    assert.equal(r.code, 2);
    assert.match(r.err, /no deploy cell named "nope" \(deploy cells: ds-4p9d\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
