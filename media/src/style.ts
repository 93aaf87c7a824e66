// Uses VS Code theme variables so outputs follow light, dark and high-contrast themes.
export const STYLE = `
.moebench-doc { font-family: var(--vscode-font-family); font-size: 12px; color: var(--vscode-editor-foreground); }
.moebench-title { font-weight: 600; font-size: 13px; margin: 4px 0 6px; }
.moebench-subtitle { font-weight: 600; margin: 8px 0 4px; }
.moebench-sim { display: inline-block; font-size: 11px; padding: 1px 6px; margin-bottom: 4px; border-radius: 3px;
  background: var(--vscode-statusBarItem-warningBackground, #b58900); color: var(--vscode-statusBarItem-warningForeground, #fff); }
.moebench-table { border-collapse: collapse; margin: 4px 0; }
.moebench-table th, .moebench-table td { padding: 2px 8px; border-bottom: 1px solid var(--vscode-editorWidget-border, rgba(128,128,128,.3)); text-align: left; white-space: nowrap; }
.moebench-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
.moebench-kv { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; margin: 4px 0; }
.moebench-kv dt { opacity: .8; } .moebench-kv dd { margin: 0; font-variant-numeric: tabular-nums; }
.moebench-badges { display: flex; flex-wrap: wrap; gap: 4px; margin: 4px 0; }
.moebench-badge { padding: 1px 8px; border-radius: 10px; font-size: 11px; border: 1px solid; }
.moebench-badge.ok { border-color: var(--vscode-testing-iconPassed, #388a34); color: var(--vscode-testing-iconPassed, #388a34); }
.moebench-badge.info { border-color: var(--vscode-editorInfo-foreground, #3794ff); color: var(--vscode-editorInfo-foreground, #3794ff); }
.moebench-badge.warn { border-color: var(--vscode-editorWarning-foreground, #bf8803); color: var(--vscode-editorWarning-foreground, #bf8803); }
.moebench-badge.error { border-color: var(--vscode-editorError-foreground, #e51400); color: var(--vscode-editorError-foreground, #e51400); }
.moebench-text { margin: 4px 0; white-space: pre-wrap; }
.moebench-plot { width: 100%; }
.moebench-canvas { position: absolute; top: 0; left: 0; pointer-events: none; }
.moebench-tip { position: absolute; display: none; pointer-events: none; z-index: 10; padding: 2px 6px; font-size: 11px; white-space: nowrap;
  background: var(--vscode-editorHoverWidget-background, #fff); color: var(--vscode-editorHoverWidget-foreground, #333); border: 1px solid var(--vscode-editorHoverWidget-border, #999); }
.moebench-table.collapsed .extra { display: none; }
.moebench-toggle { margin: 4px 0; font: inherit; font-size: 11px; color: var(--vscode-textLink-foreground, #3794ff); background: none; border: none; padding: 0; cursor: pointer; }
.moebench-plot-title { font-weight: 600; font-size: 13px; margin: 12px 0 0 4px; }
.moebench-progress { display: flex; align-items: center; gap: 8px; margin: 4px 0; }
.moebench-progress .bar { width: 200px; height: 6px; background: rgba(128,128,128,.25); border-radius: 3px; overflow: hidden; }
.moebench-progress .fill { height: 100%; background: var(--vscode-progressBar-background, #0e70c0); }
`;
