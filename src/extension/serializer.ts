import * as vscode from 'vscode';
import { parseNotebookBytes, serializeNotebook } from '../core/notebook/format';
import { isJsonMime, type Notebook, type NotebookCell, type NotebookOutput } from '../core/notebook/model';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Bytes <-> NotebookData. Corrupt or newer files THROW (VS Code then shows the error with
 * "Open in Text Editor"); returning an empty notebook would let the next save destroy the file.
 */
export class MoeBenchSerializer implements vscode.NotebookSerializer {
  deserializeNotebook(content: Uint8Array): vscode.NotebookData {
    const nb = parseNotebookBytes(content);
    const data = new vscode.NotebookData(nb.cells.map(toCellData));
    data.metadata = nb.metadata;
    return data;
  }

  serializeNotebook(data: vscode.NotebookData): Uint8Array {
    const nb: Notebook = { metadata: data.metadata ?? {}, cells: data.cells.map(fromCellData) };
    return encoder.encode(serializeNotebook(nb));
  }
}

function toCellData(c: NotebookCell): vscode.NotebookCellData {
  const kind = c.kind === 'markdown' ? vscode.NotebookCellKind.Markup : vscode.NotebookCellKind.Code;
  const cell = new vscode.NotebookCellData(kind, c.source, c.language);
  if (c.metadata) cell.metadata = c.metadata;
  if (c.outputs) {
    cell.outputs = c.outputs.map(
      (o) =>
        new vscode.NotebookCellOutput(
          o.items.map((i) => (isJsonMime(i.mime) ? vscode.NotebookCellOutputItem.json(i.data, i.mime) : new vscode.NotebookCellOutputItem(encoder.encode(String(i.data)), i.mime))),
          o.metadata,
        ),
    );
  }
  if (c.execution) {
    const { order, success, startMs, endMs } = c.execution;
    cell.executionSummary = { executionOrder: order, success, timing: startMs !== undefined && endMs !== undefined ? { startTime: startMs, endTime: endMs } : undefined };
  }
  return cell;
}

function fromCellData(c: vscode.NotebookCellData): NotebookCell {
  const cell: NotebookCell = {
    kind: c.kind === vscode.NotebookCellKind.Markup ? 'markdown' : 'code',
    language: c.languageId,
    source: c.value,
  };
  if (c.metadata && Object.keys(c.metadata).length) cell.metadata = { ...c.metadata };
  if (c.outputs?.length) cell.outputs = c.outputs.map(fromOutput);
  const s = c.executionSummary;
  if (s && (s.executionOrder !== undefined || s.success !== undefined)) {
    cell.execution = { order: s.executionOrder, success: s.success, startMs: s.timing?.startTime, endMs: s.timing?.endTime };
  }
  return cell;
}

function fromOutput(o: vscode.NotebookCellOutput): NotebookOutput {
  return {
    metadata: o.metadata,
    items: o.items.map((i) => {
      const text = decoder.decode(i.data);
      if (isJsonMime(i.mime)) {
        try {
          return { mime: i.mime, data: JSON.parse(text) as unknown };
        } catch {
          return { mime: 'text/plain', data: text };
        }
      }
      return { mime: i.mime, data: text };
    }),
  };
}
