import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parseNotebookBytes } from '../../core/notebook/format';
import type { NotebookCell } from '../../core/notebook/model';
import { cellName } from '../../core/exec/run-cell';
import { clusterKind, clusterSpecSchema } from '../../core/cluster-kinds';
import { parseSpec } from '../../core/spec/yaml-spec';
import { errorText } from '../../core/output/error-markdown';
import { SpecValidationError, formatLocation } from '../../core/util/errors';
import { DEPLOY_LANGUAGE, parseDeploySpec } from '../../core/spec/deploy-spec';
import { planDeployCell } from '../../core/plan/planner';
import { planCommands } from '../../core/plan/print';
import { readNotebookFile } from '../../core/notebook/read-file';

const USAGE = `Usage: moebench plan <notebook.moebench> [--cell NAME ...] [--allow-env NAME ...]

Prints the launch commands of the notebook's deploy cells (or the named ones) per node, in launch
order, exactly as a deploy cell would run them. Nothing is started and no node is contacted.
--allow-env NAME allows an environment name that changes how programs start (LD_LIBRARY_PATH,
PYTHONPATH...); a notebook cannot allow one itself.
Exit status: 0 planned, 1 a deployment has errors (listed with their cell lines), 2 usage or file error.`;

export async function planCommand(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: { cell: { type: 'string', multiple: true }, 'allow-env': { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } } });
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
  let cells: NotebookCell[];
  try {
    cells = parseNotebookBytes(readNotebookFile(file), file).cells;
  } catch (err) {
    process.stderr.write(`moebench plan: ${errorText(err)}\n`);
    return 2;
  }
  const deployCells = cells.map((c, index) => ({ c, index, name: cellName(c) })).filter((x) => x.c.kind === 'code' && x.c.language === DEPLOY_LANGUAGE);
  const wanted = args.values.cell;
  const chosen = wanted ? deployCells.filter((x) => x.name !== undefined && wanted.includes(x.name)) : deployCells;
  if (wanted) {
    const missing = wanted.filter((w) => !deployCells.some((x) => x.name === w));
    if (missing.length) {
      process.stderr.write(`moebench plan: no deploy cell named ${missing.map((m) => `"${m}"`).join(', ')} (deploy cells: ${deployCells.map((x) => x.name ?? `#${x.index + 1}`).join(', ') || 'none'})\n`);
      return 2;
    }
  }
  if (chosen.length === 0) {
    process.stderr.write(`moebench plan: ${path.basename(file)} has no ${DEPLOY_LANGUAGE} cells\n`);
    return 2;
  }

  let failed = false;
  for (const [n, { c, index, name }] of chosen.entries()) {
    const label = name ?? `#${index + 1}`;
    if (n > 0) process.stdout.write('\n');
    try {
      const clusterName = parseDeploySpec(c.source, label).spec.cluster;
      const clusterCell = cells.find((x) => x.language === 'moebench-cluster' && cellName(x) === clusterName);
      if (!clusterCell) {
        process.stderr.write(`moebench plan: cell "${label}" targets cluster "${clusterName}", but no moebench-cluster cell has that name\n`);
        failed = true;
        continue;
      }
      const { spec: clusterSpec } = parseSpec(clusterSpecSchema, clusterCell.source, { cell: clusterName, kind: 'moebench-cluster' });
      const kind = clusterKind(clusterSpec.kind);
      if (!kind) throw new SpecValidationError(`Unknown cluster kind ${JSON.stringify(clusterSpec.kind)}`, { cell: clusterName, field: 'kind' });
      const { cluster, notes } = kind.preview(clusterSpec);
      const { plan } = planDeployCell(c.source, cluster, label, { allowEnvNames: args.values['allow-env'] ?? [] });
      process.stdout.write(`# cell "${label}"\n`);
      for (const note of notes) process.stdout.write(`# note: ${note}\n`);
      process.stdout.write(planCommands(plan));
      // a scheduler kind (slurm) also prints what it submits and how each rank is started
      if (kind.launchPreview) process.stdout.write(`\n${kind.launchPreview(clusterSpec, plan)}`);
    } catch (err) {
      failed = true;
      if (err instanceof SpecValidationError && err.issues.length) {
        process.stderr.write(`moebench plan: ${err.message}\n`);
        for (const i of err.issues) process.stderr.write(`  ${path.basename(file)}: ${formatLocation(i.where)}: ${i.severity ?? 'error'}: ${i.message}\n`);
      } else {
        process.stderr.write(`moebench plan: cell "${label}": ${errorText(err)}\n`);
      }
    }
  }
  return failed ? 1 : 0;
}
