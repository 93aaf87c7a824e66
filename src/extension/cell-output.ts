import * as vscode from 'vscode';
import { OUTPUT_MIME, type OutputDoc } from '../core/output/doc';

const STDOUT = 'application/vnd.code.notebook.stdout';
const STDERR = 'application/vnd.code.notebook.stderr';

/**
 * Writes one cell execution's outputs. Logs are batched (one append per flush interval) and capped
 * in the cell so a 200,000-line script cannot freeze the editor; the full log goes to the channel.
 * Docs with the same id are replaced in place (the renderer then updates its charts with Plotly.react).
 */
export class CellOutputWriter {
  private pending: { stream: 'stdout' | 'stderr'; text: string }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private logOutput: vscode.NotebookCellOutput | undefined;
  private linesShown = 0;
  private truncated = false;
  private readonly docs = new Map<string, { output: vscode.NotebookCellOutput; persist: boolean }>();
  private readonly order: vscode.NotebookCellOutput[] = [];
  private chain: Thenable<unknown> = Promise.resolve();

  constructor(
    private readonly execution: vscode.NotebookCellExecution,
    private readonly options: { maxLines: number; flushIntervalMs: number; fullLog: (text: string) => void },
  ) {}

  log(stream: 'stdout' | 'stderr', text: string): void {
    this.options.fullLog(text);
    if (this.truncated) return;
    this.pending.push({ stream, text });
    this.timer ??= setTimeout(() => this.flush(), this.options.flushIntervalMs);
  }

  doc(id: string, doc: OutputDoc, persist: boolean): void {
    const item = vscode.NotebookCellOutputItem.json(doc, OUTPUT_MIME);
    const existing = this.docs.get(id);
    if (existing) {
      this.enqueue(() => this.execution.replaceOutputItems(item, existing.output));
      return;
    }
    const output = new vscode.NotebookCellOutput([item], { id, ...(persist ? {} : { transient: true }) });
    this.docs.set(id, { output, persist });
    this.order.push(output);
    this.enqueue(() => this.execution.appendOutput(output));
  }

  markdown(text: string): void {
    const output = new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.text(text, 'text/markdown')], { id: 'error' });
    this.order.push(output);
    this.enqueue(() => this.execution.appendOutput(output));
  }

  /** flush logs, drop live-only docs (progress), and wait for every write to land */
  async finish(): Promise<void> {
    this.flush();
    const transient = [...this.docs.values()].filter((d) => !d.persist).map((d) => d.output);
    if (transient.length) {
      const keep = this.order.filter((o) => !transient.includes(o));
      this.enqueue(() => this.execution.replaceOutput(keep));
    }
    await this.chain;
  }

  private enqueue(op: () => Thenable<unknown>): void {
    // VS Code applies output edits asynchronously: keep them in order
    this.chain = this.chain.then(op, op);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const items: vscode.NotebookCellOutputItem[] = [];
    let cur: { stream: 'stdout' | 'stderr'; text: string } | undefined;
    for (const p of batch) {
      if (this.truncated) break;
      let text = p.text;
      const lines = countLines(text);
      if (this.linesShown + lines > this.options.maxLines) {
        text = firstLines(text, this.options.maxLines - this.linesShown);
        text += `\n… output truncated after ${this.options.maxLines.toLocaleString('en-US')} lines; the full log is in the "MoE Bench" output channel (command: MoE Bench: Show Log).\n`;
        this.truncated = true;
      }
      this.linesShown += lines;
      if (cur && cur.stream === p.stream) cur.text += text;
      else {
        if (cur) items.push(vscode.NotebookCellOutputItem[cur.stream](cur.text));
        cur = { stream: p.stream, text };
      }
    }
    if (cur) items.push(vscode.NotebookCellOutputItem[cur.stream](cur.text));
    if (items.length === 0) return;
    if (!this.logOutput) {
      const output = new vscode.NotebookCellOutput(items, { id: 'log' });
      this.logOutput = output;
      this.order.push(output);
      this.enqueue(() => this.execution.appendOutput(output));
    } else {
      const output = this.logOutput;
      this.enqueue(() => this.execution.appendOutputItems(items, output));
    }
  }
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function firstLines(text: string, n: number): string {
  let idx = -1;
  for (let i = 0; i < n; i++) {
    idx = text.indexOf('\n', idx + 1);
    if (idx === -1) return text;
  }
  return text.slice(0, idx + 1);
}

export { STDOUT, STDERR };
