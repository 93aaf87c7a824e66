import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from './disposable';
import { ExecutionQueue } from '../core/exec/queue';
import { Session } from '../core/exec/session';
import { runCell } from '../core/exec/run-cell';
import { stopDeployment } from '../core/cells/deploy';
import { CELL_LANGUAGES } from '../core/spec/cell-kinds';
import type { CellExecutor } from '../core/exec/cell';
import type { HostServices } from '../core/host';
import { errorMarkdown, errorText } from '../core/output/error-markdown';
import { CellOutputWriter } from './cell-output';
import { appendCellLog, logger } from './log';

const log = logger('controller');

interface NotebookState {
  session: Session;
  queue: ExecutionQueue<vscode.NotebookCell>;
}

/**
 * The kernel: one execution queue and one Session per open notebook. Cancellation comes through
 * each execution's token (no interruptHandler, which would stop the token from firing).
 */
export class MoeBenchController extends Disposable {
  private readonly controller: vscode.NotebookController;
  private readonly states = new Map<string, NotebookState>();
  private executionOrder = 0;
  private readonly changed = new vscode.EventEmitter<void>();
  /** fires when sessions, clusters or deployments may have changed (views refresh) */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly executors: ReadonlyMap<string, CellExecutor>,
    private readonly host: HostServices,
    private readonly toolVersion: string,
  ) {
    super();
    this.controller = this._register(vscode.notebooks.createNotebookController('moebench.controller', 'moebench', 'MoE Bench'));
    this.controller.supportedLanguages = [...CELL_LANGUAGES];
    this.controller.supportsExecutionOrder = true;
    this.controller.description = 'Runs cells on your cluster (or the embedded simulator)';
    this.controller.executeHandler = (cells, notebook) => this.execute(cells, notebook);
    this._register(this.changed);
    this._register(
      vscode.workspace.onDidCloseNotebookDocument((nb) => {
        const st = this.states.get(nb.uri.toString());
        if (!st) return;
        this.states.delete(nb.uri.toString());
        st.queue.cancelAll();
        void st.queue.whenIdle().then(() => st.session.dispose()).catch((err: unknown) => log.error(`closing ${nb.uri.fsPath}: ${errorText(err)}`));
        this.changed.fire();
      }),
    );
  }

  override dispose(): void {
    for (const st of this.states.values()) {
      st.queue.cancelAll();
      void st.session.dispose().catch((err: unknown) => log.error(`disposing a session: ${errorText(err)}`));
    }
    this.states.clear();
    super.dispose();
  }

  sessions(): { uri: string; session: Session }[] {
    return [...this.states.entries()].map(([uri, s]) => ({ uri, session: s.session }));
  }

  stopAll(): void {
    for (const st of this.states.values()) st.queue.cancelAll();
  }

  /**
   * "Stop All" also stops what the notebooks started: every live deployment of every open
   * notebook (cancelling the cells alone left the servers running). Returns what failed to stop.
   */
  async stopAllDeployments(): Promise<{ name: string; error: string }[]> {
    const failed: { name: string; error: string }[] = [];
    await Promise.all(
      [...this.states.values()].flatMap((st) =>
        st.session.deployments.names().map((name) =>
          stopDeployment(st.session, name).then(
            () => undefined,
            (err: unknown) => void failed.push({ name, error: err instanceof Error ? err.message : String(err) }),
          ),
        ),
      ),
    );
    return failed;
  }

  private stateFor(notebook: vscode.NotebookDocument): NotebookState {
    const key = notebook.uri.toString();
    let st = this.states.get(key);
    if (!st) {
      // an untitled notebook (New Notebook, Quick Benchmark) belongs to no folder: its runs go to
      // the first workspace folder's .moebench/runs, not a shared temp folder, when one is open
      const folder = vscode.workspace.getWorkspaceFolder(notebook.uri)?.uri.fsPath ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      const nbPath = notebook.uri.scheme === 'file' ? notebook.uri.fsPath : path.join(folder ?? os.tmpdir(), path.basename(notebook.uri.path) || 'untitled.moebench');
      st = { session: new Session({ notebookPath: nbPath, toolVersion: this.toolVersion }), queue: new ExecutionQueue() };
      this.states.set(key, st);
    }
    return st;
  }

  /**
   * The execute handler. Public so the untrusted-workspace test can call it directly: through the
   * UI, VS Code's own trust prompt stops a run before it reaches this guard.
   */
  execute(cells: vscode.NotebookCell[], notebook: vscode.NotebookDocument): void {
    if (!vscode.workspace.isTrusted) {
      // nothing runs and nothing connects in an untrusted workspace; the cell says why
      for (const cell of cells) {
        const ex = this.controller.createNotebookCellExecution(cell);
        ex.start(Date.now());
        void ex.replaceOutput(
          new vscode.NotebookCellOutput([
            vscode.NotebookCellOutputItem.text(
              '**Not run: this workspace is not trusted.** MoE Bench runs commands on your machine and cluster, so it runs no cell and opens no connection until you trust the workspace.\n\n[Manage Workspace Trust](command:workbench.trust.manage)',
              'text/markdown',
            ),
          ]),
        );
        ex.end(false, Date.now());
      }
      return;
    }
    const st = this.stateFor(notebook);
    const maxLines = this.host.setting('output.maxLogLines', 2000);
    const flushIntervalMs = this.host.setting('output.flushIntervalMs', 200);
    st.queue.enqueue(
      cells.map((cell) => {
        const execution = this.controller.createNotebookCellExecution(cell);
        let started = false;
        execution.token.onCancellationRequested(() => st.queue.cancel(cell));
        let writer: CellOutputWriter | undefined;
        return {
          key: cell,
          onStart: () => {
            started = true;
            execution.executionOrder = ++this.executionOrder;
            execution.start(Date.now());
            void execution.clearOutput();
            writer = new CellOutputWriter(execution, { maxLines, flushIntervalMs, fullLog: appendCellLog });
          },
          run: async (signal: AbortSignal) => {
            const w = writer;
            if (!w) return;
            try {
              await runCell(
                { index: cell.index, kind: 'code', language: cell.document.languageId, source: cell.document.getText() },
                {
                  session: st.session,
                  host: this.host,
                  executors: this.executors,
                  signal,
                  emit: (ev) => {
                    if (ev.kind === 'log') w.log(ev.stream, ev.text);
                    else if (ev.kind === 'doc') w.doc(ev.id, ev.doc, ev.persist !== false);
                    else log.trace(`cell ${cell.index + 1}: ${ev.text}`);
                  },
                },
              );
            } finally {
              this.changed.fire();
            }
          },
          onEnd: (state, error) => {
            if (!started) {
              execution.start(Date.now());
              execution.end(undefined, Date.now());
              return;
            }
            const w = writer;
            const finish = async (): Promise<void> => {
              if (w) {
                if (error !== undefined) {
                  log.error(`cell ${cell.index + 1} ${state}: ${errorText(error)}`);
                  w.markdown(errorMarkdown(error));
                }
                await w.finish();
              }
            };
            void finish().finally(() => execution.end(state === 'succeeded' ? true : state === 'failed' ? false : undefined, Date.now()));
          },
        };
      }),
    );
  }
}
