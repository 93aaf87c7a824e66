/**
 * Language server for the notebook's YAML cell languages. Diagnostics come from the same code the
 * executors run (zod schemas through parseSpec positioning, the planner's validation, cross-cell
 * references); completion and hover from yaml-language-server fed with JSON Schema generated from
 * those zod schemas, plus the engine flag catalog for `extraArgs`.
 */
import {
  createConnection,
  ProposedFeatures,
  NotebookDocuments,
  TextDocuments,
  CompletionItemKind,
  CodeActionKind,
  DiagnosticSeverity,
  MarkupKind,
  type CompletionItem,
  type Diagnostic,
  type CodeAction,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { diagnoseCell, type CellDiagnostic } from '../core/lang/diagnose';
import { flagCompletions, flagHover } from '../core/lang/flag-assist';
import { quickFixesFor } from '../core/lang/quick-fix';
import type { NotebookCellText } from '../core/lang/notebook-context';
import { YAML_CELL_LANGUAGES } from '../core/spec/cell-kinds';
import { YamlSchemaServices } from './yaml-schemas';

const YAML_LANGUAGES = YAML_CELL_LANGUAGES;
const connection = createConnection(ProposedFeatures.all);
const cellDocs = new TextDocuments(TextDocument);
const notebooks = new NotebookDocuments(cellDocs);
let yaml: YamlSchemaServices | undefined;
const lastDiagnostics = new Map<string, CellDiagnostic[]>();

/** environment names the user allowed outside the notebook (client initializationOptions) */
let envAllowNames: string[] = [];

connection.onInitialize((params): InitializeResult => {
  const opts = params.initializationOptions as { envAllowNames?: unknown } | undefined;
  if (Array.isArray(opts?.envAllowNames)) envAllowNames = opts.envAllowNames.filter((n): n is string => typeof n === 'string');
  return {
    capabilities: {
      notebookDocumentSync: { notebookSelector: [{ notebook: { notebookType: 'moebench' }, cells: YAML_LANGUAGES.map((language) => ({ language })) }] },
      completionProvider: { triggerCharacters: [':', ' ', '-'] },
      hoverProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
    },
    serverInfo: { name: 'moebench-language-server' },
  };
});

function services(): YamlSchemaServices {
  yaml ??= new YamlSchemaServices();
  return yaml;
}

function notebookCells(cellUri: string): { cells: NotebookCellText[]; docs: Map<string, TextDocument> } {
  const nb = notebooks.findNotebookDocumentForCell(cellUri);
  const docs = new Map<string, TextDocument>();
  const cells: NotebookCellText[] = [];
  const uris = nb ? nb.cells.map((c) => c.document) : [cellUri];
  for (const uri of uris) {
    const d = cellDocs.get(uri);
    if (!d) continue;
    docs.set(uri, d);
    cells.push({ id: uri, language: d.languageId, text: d.getText() });
  }
  return { cells, docs };
}

function toDiagnostic(doc: TextDocument, d: CellDiagnostic): Diagnostic {
  return {
    range: { start: doc.positionAt(d.range.start), end: doc.positionAt(d.range.end) },
    severity: d.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    message: d.hint ? `${d.message}\n${d.hint}` : d.message,
    source: 'moebench',
    code: d.rule,
  };
}

const pending = new Map<string, NodeJS.Timeout>();
function scheduleValidation(cellUri: string): void {
  const key = notebooks.findNotebookDocumentForCell(cellUri)?.uri ?? cellUri;
  const t = pending.get(key);
  if (t) clearTimeout(t);
  pending.set(
    key,
    setTimeout(() => {
      pending.delete(key);
      validateNotebookOf(cellUri);
    }, 120),
  );
}

/** cross-cell rules mean one edit can change another cell's diagnostics: validate the whole notebook */
function validateNotebookOf(cellUri: string): void {
  const { cells, docs } = notebookCells(cellUri);
  for (const cell of cells) {
    const doc = docs.get(cell.id);
    if (!doc) continue;
    let diags: CellDiagnostic[];
    try {
      diags = diagnoseCell(cell, cells, { allowEnvNames: envAllowNames });
    } catch (err) {
      connection.console.error(`diagnostics failed for ${cell.id}: ${String(err)}`);
      diags = [];
    }
    lastDiagnostics.set(cell.id, diags);
    void connection.sendDiagnostics({ uri: cell.id, version: doc.version, diagnostics: diags.map((d) => toDiagnostic(doc, d)) });
  }
}

cellDocs.onDidOpen((e) => scheduleValidation(e.document.uri));
cellDocs.onDidChangeContent((e) => scheduleValidation(e.document.uri));
cellDocs.onDidClose((e) => {
  lastDiagnostics.delete(e.document.uri);
  void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});

connection.onCompletion(async (params) => {
  const doc = cellDocs.get(params.textDocument.uri);
  if (!doc) return [];
  const offset = doc.offsetAt(params.position);
  const flags = flagCompletions(doc.getText(), offset);
  if (flags) {
    return flags.map(
      (f, i): CompletionItem => ({
        label: f.label,
        kind: CompletionItemKind.Value,
        detail: f.detail,
        documentation: { kind: MarkupKind.Markdown, value: f.documentation },
        tags: f.deprecated ? [1] : undefined,
        sortText: `${f.deprecated ? 'z' : 'a'}${String(i).padStart(4, '0')}`,
        textEdit: { range: { start: doc.positionAt(f.range.start), end: doc.positionAt(f.range.end) }, newText: f.label },
      }),
    );
  }
  const svc = services().get(doc.languageId);
  if (!svc) return [];
  const list = await svc.doComplete(doc, params.position, false);
  return list.items;
});

connection.onHover(async (params) => {
  const doc = cellDocs.get(params.textDocument.uri);
  if (!doc) return null;
  const flag = flagHover(doc.getText(), doc.offsetAt(params.position));
  if (flag) return { contents: { kind: MarkupKind.Markdown, value: flag.markdown }, range: { start: doc.positionAt(flag.range.start), end: doc.positionAt(flag.range.end) } };
  const svc = services().get(doc.languageId);
  return svc ? svc.doHover(doc, params.position) : null;
});

connection.onCodeAction((params): CodeAction[] => {
  const doc = cellDocs.get(params.textDocument.uri);
  if (!doc) return [];
  const diags = lastDiagnostics.get(doc.uri) ?? [];
  const start = doc.offsetAt(params.range.start);
  const end = doc.offsetAt(params.range.end);
  const hit = diags.filter((d) => d.range.start <= end && d.range.end >= start);
  return quickFixesFor(doc.getText(), hit).map((fix) => ({
    title: fix.title,
    kind: CodeActionKind.QuickFix,
    isPreferred: true,
    diagnostics: [toDiagnostic(doc, fix.diagnostic)],
    edit: { changes: { [doc.uri]: [{ range: { start: doc.positionAt(fix.edit.start), end: doc.positionAt(fix.edit.end) }, newText: fix.edit.newText }] } },
  }));
});

notebooks.listen(connection);
connection.listen();
