import * as vscode from 'vscode';
import type { HostServices } from '../core/cells/types';

/** HostServices backed by VS Code: modal questions, SecretStorage, settings. */
export function vscodeHost(secrets: vscode.SecretStorage): HostServices {
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
  };
}
