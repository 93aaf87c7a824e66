import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parseNotebookBytes } from '../../core/notebook/format';
import { readNotebookFile } from '../../core/notebook/read-file';
import { Session } from '../../core/exec/session';
import { runNotebook } from '../../core/exec/notebook-runner';
import { defaultExecutors } from '../../core/cells';
import { headlessHost } from '../../core/host';
import { cellName } from '../../core/exec/run-cell';
import { errorText } from '../../core/output/error-markdown';
import type { OutputDoc } from '../../core/output/doc';
import { TOOL_VERSION } from '../version';

const USAGE = `Usage: moebench doctor <notebook.moebench> [--cluster NAME] [--accept-new-host-keys]

Runs the preflight doctor on every node of the notebook's moebench-cluster cell (or the named
one) before anything is launched: GPU count, driver and CUDA, clocks and power limits, ECC and
Xid errors, NVLink, InfiniBand ports (state, rate, link layer), the HCA nearest each GPU,
GPUDirect RDMA, free disk, the engine's version and ports, with the differences between nodes
first. The cell's own \`doctor:\` options (model path, ports, DeepEP smoke test, failOn) apply.
Exit status: 0 healthy, 1 the doctor found problems (or the cluster is unreachable), 2 usage or file error.`;

/** A doc's tables as plain text (mismatches first, as the doctor orders them). */
function docText(doc: OutputDoc): string {
  const out: string[] = [doc.title ?? ''];
  for (const b of doc.blocks) {
    if (b.type === 'badges') for (const i of b.items) out.push(`[${i.level}] ${i.text}`);
    if (b.type !== 'table') continue;
    out.push('', `${b.title ?? ''}:`);
    const cells = [b.columns, ...b.rows.map((r) => r.map((c) => (c === null ? '' : String(c))))];
    const widths = b.columns.map((_, i) => Math.min(60, Math.max(...cells.map((r) => String(r[i] ?? '').length))));
    for (const r of cells) out.push('  ' + r.map((c, i) => String(c ?? '').padEnd(widths[i])).join('  ').trimEnd());
  }
  return out.join('\n') + '\n';
}

export async function doctorCommand(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: { cluster: { type: 'string' }, 'accept-new-host-keys': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.positionals.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const file = path.resolve(args.positionals[0]);
  let nb;
  try {
    nb = parseNotebookBytes(readNotebookFile(file), file);
  } catch (err) {
    process.stderr.write(`moebench doctor: ${errorText(err)}\n`);
    return 2;
  }
  const clusters = nb.cells.filter((c) => c.kind === 'code' && c.language === 'moebench-cluster').map((c) => cellName(c));
  const wanted = args.values.cluster ?? (clusters.length === 1 ? clusters[0] : undefined);
  if (!wanted || !clusters.includes(wanted)) {
    process.stderr.write(`moebench doctor: ${args.values.cluster ? `no moebench-cluster cell named "${args.values.cluster}"` : clusters.length ? 'several cluster cells; pick one with --cluster' : 'the notebook has no named moebench-cluster cell'} (cluster cells: ${clusters.map((c) => c ?? 'unnamed').join(', ') || 'none'})\n`);
    return 2;
  }
  const session = new Session({ notebookPath: file, toolVersion: TOOL_VERSION });
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  let doctorDoc: OutputDoc | undefined;
  try {
    const outcomes = await runNotebook(nb, {
      session,
      host: headlessHost({ acceptNewHostKeys: args.values['accept-new-host-keys'], settings: { 'doctor.force': true, 'deploy.stopOnSessionEnd': true } }),
      executors: defaultExecutors(),
      signal: abort.signal,
      only: [wanted],
      onCellEvent: (_i, ev) => {
        if (ev.kind === 'doc' && ev.id === 'doctor') doctorDoc = ev.doc;
      },
    });
    if (doctorDoc) process.stdout.write(docText(doctorDoc));
    const failed = outcomes.find((o) => o.state === 'failed');
    if (failed) {
      process.stderr.write(`moebench doctor: ${errorText(failed.error)}\n`);
      return 1;
    }
    // the exit status is the health of the nodes, whatever the cell's failOn says
    const errors = doctorDoc?.blocks.some((b) => b.type === 'badges' && b.items.some((i) => i.level === 'error')) ?? true;
    return errors ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    await session.dispose().catch(() => undefined);
  }
}
