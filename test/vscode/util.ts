import * as vscode from 'vscode';
import { execFileSync } from 'node:child_process';

export const EXTENSION_ID = 'moebench.moebench';

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export async function openAndShow(data: vscode.NotebookData | vscode.Uri): Promise<vscode.NotebookEditor> {
  const doc = data instanceof vscode.Uri ? await vscode.workspace.openNotebookDocument(data) : await vscode.workspace.openNotebookDocument('moebench', data);
  const editor = await vscode.window.showNotebookDocument(doc);
  await vscode.commands.executeCommand('notebook.selectKernel', { notebookEditor: editor, id: 'moebench.controller', extension: EXTENSION_ID });
  return editor;
}

export async function executeCells(doc: vscode.NotebookDocument, start = 0, end = doc.cellCount): Promise<void> {
  await vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start, end }], document: doc.uri });
}

export function finished(cell: vscode.NotebookCell): boolean {
  return cell.executionSummary?.timing?.endTime !== undefined;
}

export function outputText(cell: vscode.NotebookCell, mime?: string): string {
  const dec = new TextDecoder();
  return cell.outputs.flatMap((o) => o.items.filter((i) => !mime || i.mime === mime).map((i) => dec.decode(i.data))).join('');
}

export function processesWith(marker: string): string[] {
  return execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(marker) && !l.includes('ps -eo'));
}

export function codeCell(language: string, source: string): vscode.NotebookCellData {
  return new vscode.NotebookCellData(vscode.NotebookCellKind.Code, source, language);
}
