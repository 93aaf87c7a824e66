import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';

export const ROOT = join(__dirname, '../../..');

export interface CellInit {
  language: string;
  text: string;
}

export interface Diag {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  message: string;
  severity?: number;
  code?: string;
}

/** Drives the built language server (out/language-server.js) over stdio, as an editor would. */
export class LspClient {
  private readonly child: ChildProcess;
  readonly conn: MessageConnection;
  readonly diagnostics = new Map<string, { version: number; diagnostics: Diag[] }>();
  private readonly cellVersions = new Map<number, number>();
  private waiters: (() => void)[] = [];
  private version = 1;
  readonly notebookUri = 'file:///ws/test.moebench';

  constructor() {
    this.child = spawn(process.execPath, [join(ROOT, 'out/language-server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    if (!this.child.stdout || !this.child.stdin) throw new Error('no stdio');
    this.conn = createMessageConnection(new StreamMessageReader(this.child.stdout), new StreamMessageWriter(this.child.stdin));
    this.conn.onNotification('textDocument/publishDiagnostics', (p: { uri: string; version?: number; diagnostics: Diag[] }) => {
      this.diagnostics.set(p.uri, { version: p.version ?? 0, diagnostics: p.diagnostics });
      for (const w of this.waiters.splice(0)) w();
    });
    this.conn.listen();
  }

  cellUri(i: number): string {
    return `vscode-notebook-cell:/ws/test.moebench#cell${i}`;
  }

  async initialize(): Promise<unknown> {
    const r = await this.conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: { notebookDocument: { synchronization: {} } } });
    await this.conn.sendNotification('initialized', {});
    return r;
  }

  async openNotebook(cells: CellInit[]): Promise<void> {
    await this.conn.sendNotification('notebookDocument/didOpen', {
      notebookDocument: { uri: this.notebookUri, notebookType: 'moebench', version: this.version, cells: cells.map((_, i) => ({ kind: 2, document: this.cellUri(i) })) },
      cellTextDocuments: cells.map((c, i) => ({ uri: this.cellUri(i), languageId: c.language, version: 1, text: c.text })),
    });
  }

  async changeCell(i: number, text: string): Promise<void> {
    this.version++;
    this.cellVersions.set(i, this.version);
    await this.conn.sendNotification('notebookDocument/didChange', {
      notebookDocument: { uri: this.notebookUri, version: this.version },
      change: { cells: { textContent: [{ document: { uri: this.cellUri(i), version: this.version }, changes: [{ text }] }] } },
    });
  }

  async diagnosticsFor(i: number, timeoutMs = 10_000): Promise<Diag[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const d = this.diagnostics.get(this.cellUri(i));
      // only diagnostics computed for the latest text count
      if (d && d.version >= (this.cellVersions.get(i) ?? 1)) return d.diagnostics;
      if (Date.now() > deadline) throw new Error(`no diagnostics for cell ${i}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  async stop(): Promise<void> {
    try {
      await this.conn.sendRequest('shutdown');
      await this.conn.sendNotification('exit');
    } catch {
      // already gone
    }
    this.conn.dispose();
    this.child.kill();
  }
}
