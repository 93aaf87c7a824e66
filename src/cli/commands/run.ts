import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parseNotebookBytes, serializeNotebook } from '../../core/notebook/format';
import { Session } from '../../core/exec/session';
import { runNotebook, type CellOutcome } from '../../core/exec/notebook-runner';
import { defaultExecutors } from '../../core/cells';
import { headlessHost } from '../../core/host';
import { secretDestination } from '../../core/cells/bench-secrets';
import { errorText } from '../../core/output/error-markdown';
import { cellName } from '../../core/exec/run-cell';
import { TOOL_VERSION } from '../version';
import { Progress } from '../progress';
import { readNotebookFile } from '../../core/notebook/read-file';

const USAGE = `Usage: moebench run <notebook.moebench> [-o out.moebench] [--cell NAME ...] [--accept-new-host-keys] [--keep-deployments] [--log-output] [--allow-env NAME ...] [--allow-invalid] [--allow-notebook-ssh-files]
       [--ssh-config FILE] [--known-hosts FILE] [--allow-secret NAME@ORIGIN ...]

Runs the notebook's code cells top to bottom (like papermill), stops at the first failing cell,
and writes the outputs into the output notebook (the input file is never modified).
Deployments the run's deploy cells started (or adopted, found running with the same commands) are stopped at the end unless --keep-deployments is given.
--allow-env NAME allows an environment name that changes how programs start (LD_LIBRARY_PATH,
PYTHONPATH...) in deploy cells; a notebook cannot allow one itself.
A bench cell whose validity checks report an error (failed requests...) fails the run;
--allow-invalid keeps going (the badges still say INVALID).
--allow-notebook-ssh-files lets cluster cells use the sshConfig/knownHosts files they name (read
only; your own known_hosts still decides for every host it lists).
--ssh-config / --known-hosts name your own files (as the VS Code user settings
moebench.ssh.configFile / knownHostsFile do); accepted host keys are added to --known-hosts.
--allow-secret NAME@ORIGIN lets \${secret:NAME} be sent to that origin (http://host:port) or
deployment (NAME@my-deployment); without it a bench cell does not send the secret anywhere.
Exit status: 0 all cells succeeded, 1 a cell failed (named on stderr), 2 usage or file error, 130 interrupted.`;

/** `NAME@http://host:port` or `NAME@deployment` -> the consent id resolveSecretHeaders asks for */
function secretConsentId(flag: string): string {
  const at = flag.indexOf('@');
  if (at <= 0) return `secret:${flag}@`;
  return `secret:${flag.slice(0, at)}@${secretDestination(flag.slice(at + 1))}`;
}

export async function runCommand(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        output: { type: 'string', short: 'o' },
        cell: { type: 'string', multiple: true },
        'accept-new-host-keys': { type: 'boolean', default: false },
        'log-output': { type: 'boolean', default: false },
        'keep-deployments': { type: 'boolean', default: false },
        'allow-env': { type: 'string', multiple: true },
        'allow-invalid': { type: 'boolean', default: false },
        'allow-notebook-ssh-files': { type: 'boolean', default: false },
        'ssh-config': { type: 'string' },
        'allow-secret': { type: 'string', multiple: true },
        'known-hosts': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (args.positionals.length !== 1) {
    process.stderr.write(USAGE + '\n');
    return 2;
  }
  const input = path.resolve(args.positionals[0]);
  const output = args.values.output ? path.resolve(args.values.output) : undefined;
  if (output === input) {
    process.stderr.write('moebench run: the output notebook must differ from the input (the input is never modified)\n');
    return 2;
  }
  let bytes: Buffer;
  try {
    // bytes: invalid UTF-8 is reported with its place, not replaced (parseNotebookBytes)
    bytes = readNotebookFile(input);
  } catch (err) {
    process.stderr.write(`moebench run: cannot read ${input}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  let nb;
  try {
    nb = parseNotebookBytes(bytes, input);
  } catch (err) {
    process.stderr.write(`moebench run: ${errorText(err)}\n`);
    return 2;
  }
  const only = args.values.cell;
  if (only) {
    const names = new Set(nb.cells.map((c) => cellName(c)).filter((n): n is string => !!n));
    const missing = only.filter((n) => !names.has(n));
    if (missing.length) {
      process.stderr.write(`moebench run: no cell named ${missing.map((m) => `"${m}"`).join(', ')} (cells: ${[...names].join(', ') || 'none named'})\n`);
      return 2;
    }
  }

  const abort = new AbortController();
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\ninterrupted: stopping the running cell (Ctrl-C again to force)\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  // runs, reports and deployment records live beside the input notebook, as in the editor
  const session = new Session({ notebookPath: input, toolVersion: TOOL_VERSION });
  const progress = new Progress(process.stderr, nb.cells.filter((c) => c.kind === 'code').length);
  const logOutput = args.values['log-output'] || !process.stderr.isTTY;
  let outcomes: CellOutcome[] = [];
  try {
    outcomes = await runNotebook(nb, {
      session,
      // unattended runs stop what they deployed unless asked not to: no GPU process outlives the run
      host: headlessHost({ acceptNewHostKeys: args.values['accept-new-host-keys'], settings: { 'deploy.stopOnSessionEnd': !args.values['keep-deployments'], 'env.allowNames': args.values['allow-env'] ?? [], 'bench.allowInvalid': args.values['allow-invalid'], consents: [...(args.values['allow-notebook-ssh-files'] ? ['ssh.sshConfig:*', 'ssh.knownHosts:*'] : []), ...(args.values['allow-secret'] ?? []).map(secretConsentId)], 'ssh.configFile': args.values['ssh-config'] ? path.resolve(args.values['ssh-config']) : '', 'ssh.knownHostsFile': args.values['known-hosts'] ? path.resolve(args.values['known-hosts']) : '' } }),
      executors: defaultExecutors(),
      signal: abort.signal,
      only,
      onCellStart: (_i, label) => progress.start(label),
      onCellEvent: (_i, ev) => {
        if (ev.kind === 'status') progress.status(ev.text);
        else if (ev.kind === 'log' && logOutput) progress.log(ev.text);
      },
      onCellEnd: (o) => progress.end(o.label, o.state, o.durationMs),
    });
  } finally {
    await session.dispose().catch((err: unknown) => process.stderr.write(`warning: cleanup: ${errorText(err)}\n`));
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  if (output) {
    fs.mkdirSync(path.dirname(output), { recursive: true });
    const tmp = `${output}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, serializeNotebook(nb));
    fs.renameSync(tmp, output);
  }
  const failed = outcomes.find((o) => o.state === 'failed');
  const done = outcomes.filter((o) => o.state === 'succeeded').length;
  if (failed) {
    process.stderr.write(`moebench run: cell ${failed.label} failed: ${errorText(failed.error)}\n`);
  }
  process.stderr.write(`${done} of ${outcomes.length} cells succeeded${output ? `; outputs written to ${output}` : ''}\n`);
  if (interrupted) return 130;
  return failed ? 1 : 0;
}
