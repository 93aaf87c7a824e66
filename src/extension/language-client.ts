import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { YAML_CELL_LANGUAGES } from '../core/spec/cell-kinds';

/**
 * Starts the cell-language server. The selector names the notebook type AND the language: cells
 * live under the vscode-notebook-cell: scheme, which a `scheme: 'file'` selector would miss.
 */
export async function startLanguageClient(context: vscode.ExtensionContext): Promise<LanguageClient> {
  const module = context.asAbsolutePath('out/language-server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: YAML_CELL_LANGUAGES.map((language) => ({ notebook: 'moebench', language })),
    diagnosticCollectionName: 'moebench',
    // the user's allow list for environment names (machine setting), so diagnostics match what runs
    initializationOptions: { envAllowNames: vscode.workspace.getConfiguration('moebench').get<string[]>('env.allowNames', []) },
  };
  const client = new LanguageClient('moebench', 'MoE Bench Language Server', serverOptions, clientOptions);
  await client.start();
  return client;
}
