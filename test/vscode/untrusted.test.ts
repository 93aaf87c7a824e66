import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { EXTENSION_ID, codeCell, executeCells, openAndShow, waitFor } from './util';

const WS = process.env.MOEBENCH_TEST_WORKSPACE ?? '';

interface Api {
  untrustedStatus: vscode.NotebookCellStatusBarItemProvider;
}

describe('MoE Bench in an untrusted workspace', () => {
  it('the workspace really is untrusted', () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  it('a cell does not run, starts nothing, and says why', async () => {
    const canary = path.join(WS, `canary-${Date.now()}`);
    const editor = await openAndShow(new vscode.NotebookData([codeCell('shellscript', `touch ${canary}`), codeCell('moebench-cluster', 'name: x\nkind: local')]));
    const cells = editor.notebook.getCells();
    // VS Code asks for trust first (the test host refuses the dialog); the run must not happen
    void Promise.resolve(executeCells(editor.notebook)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(existsSync(canary), false, 'the command never ran');
    for (const c of cells) assert.equal(c.executionSummary?.success, undefined, `cell ${c.index + 1} was not executed`);
    const ext = vscode.extensions.getExtension<Api>(EXTENSION_ID);
    assert.ok(ext);
    const api = await ext.activate();
    const items = await waitFor('status items', async () => (await api.untrustedStatus.provideCellStatusBarItems(cells[0], new vscode.CancellationTokenSource().token)) ?? undefined);
    const list = Array.isArray(items) ? items : [items];
    assert.ok(list.some((i) => /not trusted/.test(i.text)), 'each code cell says why it does not run');
  });
});
