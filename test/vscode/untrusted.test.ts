import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import type { MoeBenchController } from '../../src/extension/controller';
import { EXTENSION_ID, codeCell, finished, openAndShow, outputText, waitFor } from './util';

const WS = process.env.MOEBENCH_TEST_WORKSPACE ?? '';

interface Api {
  controller: MoeBenchController;
  untrustedStatus: vscode.NotebookCellStatusBarItemProvider;
}

async function api(): Promise<Api> {
  const ext = vscode.extensions.getExtension<Api>(EXTENSION_ID);
  assert.ok(ext);
  return ext.activate();
}

describe('MoE Bench in an untrusted workspace', () => {
  it('the workspace really is untrusted', () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  it("the controller's own guard: called directly, it runs nothing, opens no session, and writes why into each cell", async () => {
    // VS Code's trust prompt would stop a UI run before it reaches the extension, so call the
    // execute handler itself: this is the guard that protects API and command callers too
    const canary = path.join(WS, `canary-guard-${Date.now()}`);
    const editor = await openAndShow(new vscode.NotebookData([codeCell('shellscript', `touch ${canary}`), codeCell('moebench-cluster', 'name: x\nkind: local')]));
    const cells = editor.notebook.getCells();
    const { controller } = await api();
    const sessionsBefore = controller.sessions().length;
    controller.execute(cells, editor.notebook);
    await waitFor('both cells to end', () => cells.every((c) => finished(c)));
    for (const c of cells) {
      assert.equal(c.executionSummary?.success, false, `cell ${c.index + 1} ended as not run`);
      assert.match(outputText(c, 'text/markdown'), /Not run: this workspace is not trusted/);
    }
    assert.equal(existsSync(canary), false, 'the command ran');
    assert.equal(controller.sessions().length, sessionsBefore, 'a session (and with it a connection) was opened');
  });

  it('each code cell says in its status bar why it does not run', async () => {
    const editor = await openAndShow(new vscode.NotebookData([codeCell('shellscript', 'true'), codeCell('markdown', '# notes')]));
    const cells = editor.notebook.getCells();
    const { untrustedStatus } = await api();
    const token = new vscode.CancellationTokenSource().token;
    const items = await waitFor('status items', async () => (await untrustedStatus.provideCellStatusBarItems(cells[0], token)) ?? undefined);
    const list = Array.isArray(items) ? items : [items];
    assert.ok(list.some((i) => /not trusted/.test(i.text)), 'the code cell says why it does not run');
  });
});
