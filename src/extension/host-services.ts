import * as vscode from 'vscode';
import type { HostServices } from '../core/host';

/** HostServices backed by VS Code: modal questions, SecretStorage, settings, per-workspace consents. */
export function vscodeHost(secrets: vscode.SecretStorage, workspaceState?: vscode.Memento): HostServices {
  return {
    async confirm(question, detail) {
      const yes = 'Yes';
      const answer = await vscode.window.showWarningMessage(question, { modal: true, detail }, yes, 'No');
      return answer === yes;
    },
    async getSecret(key, prompt) {
      const stored = await secrets.get(key);
      if (stored !== undefined) return stored;
      if (!prompt) return undefined;
      const value = await vscode.window.showInputBox({ prompt, password: true, ignoreFocusOut: true });
      // kept in SecretStorage only, never in the notebook or run store
      if (value !== undefined) await secrets.store(key, value);
      return value;
    },
    async forgetSecret(key) {
      await secrets.delete(key);
    },
    setting<T>(key: string, fallback: T): T {
      return vscode.workspace.getConfiguration('moebench').get<T>(key, fallback);
    },
    // asked once per workspace, remembered in the workspace's extension state (never in the notebook);
    // an untrusted workspace is never asked: the answer is no
    async consent(id, question, detail) {
      if (!vscode.workspace.isTrusted || !workspaceState) return false;
      const key = `moebench.consent.${id}`;
      if (workspaceState.get<boolean>(key) === true) return true;
      const allow = 'Allow for this workspace';
      const answer = await vscode.window.showWarningMessage(question, { modal: true, detail }, allow);
      if (answer !== allow) return false;
      await workspaceState.update(key, true);
      return true;
    },
  };
}
