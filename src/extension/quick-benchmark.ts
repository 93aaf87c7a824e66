import * as vscode from 'vscode';
import { DATASET_PRESETS, LOAD_PRESETS, quickBenchNotebook, type QuickEndpoint, type QuickPreset } from '../core/notebook/quick-bench';
import { serializeNotebook } from '../core/notebook/format';
import { MoeBenchSerializer } from './serializer';

type Pick<T> = vscode.QuickPickItem & { value: T };

/** "MoE Bench: Quick Benchmark...": endpoint, dataset, load in quick picks; then a notebook that runs. */
export async function quickBenchmarkCommand(): Promise<void> {
  const endpointItems: Pick<'sim' | 'url'>[] = [
    { label: '$(beaker) Embedded simulator', description: 'no cluster needed', detail: 'an emulated 8-GPU SGLang node on loopback; results are labelled simulated', value: 'sim' },
    { label: '$(globe) An endpoint URL...', description: 'SGLang, vLLM or any OpenAI-compatible server', value: 'url' },
  ];
  const ep = await vscode.window.showQuickPick(endpointItems, { title: 'Quick Benchmark (1/3): endpoint', ignoreFocusOut: true });
  if (!ep) return;
  let endpoint: QuickEndpoint = { kind: 'sim' };
  if (ep.value === 'url') {
    const url = await vscode.window.showInputBox({
      title: 'Quick Benchmark: endpoint URL',
      value: 'http://127.0.0.1:30000',
      ignoreFocusOut: true,
      validateInput: (v) => (/^https?:\/\/[^\s/]+(\/.*)?$/.test(v.trim()) ? undefined : 'Enter an http(s) URL, e.g. http://127.0.0.1:30000'),
    });
    if (!url) return;
    const api = await vscode.window.showQuickPick(
      [
        { label: 'SGLang /generate', value: 'generate' as const },
        { label: 'OpenAI /v1/completions', value: 'completions' as const },
        { label: 'OpenAI /v1/chat/completions', value: 'chat' as const },
      ],
      { title: 'Quick Benchmark: API', ignoreFocusOut: true },
    );
    if (!api) return;
    endpoint = { kind: 'url', url: url.trim().replace(/\/$/, ''), api: api.value };
  }
  const toItems = (presets: readonly QuickPreset[]): Pick<QuickPreset>[] => presets.map((p) => ({ label: p.label, detail: p.detail, value: p }));
  const dataset = await vscode.window.showQuickPick(toItems(DATASET_PRESETS), { title: 'Quick Benchmark (2/3): dataset', ignoreFocusOut: true });
  if (!dataset) return;
  const load = await vscode.window.showQuickPick(toItems(LOAD_PRESETS), { title: 'Quick Benchmark (3/3): load', ignoreFocusOut: true });
  if (!load) return;
  const nb = quickBenchNotebook(endpoint, dataset.value, load.value);
  const data = new MoeBenchSerializer().deserializeNotebook(new TextEncoder().encode(serializeNotebook(nb)));
  const doc = await vscode.workspace.openNotebookDocument('moebench', data);
  await vscode.window.showNotebookDocument(doc);
  await vscode.commands.executeCommand('notebook.execute', doc.uri);
}
