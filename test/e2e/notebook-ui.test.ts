/**
 * UI test on the packaged build: the VSIX made by `vsce package` is installed into code-server,
 * a sample notebook is opened from the explorer, Run All is clicked, and the rendered output is
 * read from inside the notebook's webview (iframe.webview -> #active-frame).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT, codeServerCli, launchBrowser, newPage, startCodeServer, type CodeServer } from '../harness/code-server';
import { makeWorkspace } from '../harness/run-vscode-suite';

let cs: CodeServer;
let browser: Browser;
let page: Page;
const shots = join(ROOT, 'test-results');

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-vsix-'));
  const vsix = join(dir, 'moebench.vsix');
  execFileSync('npx', ['vsce', 'package', '--no-dependencies', '-o', vsix], { cwd: ROOT, stdio: 'pipe' });
  console.log(`VSIX size: ${(statSync(vsix).size / 1024 / 1024).toFixed(2)} MiB`);
  const extensionsDir = join(dir, 'ext');
  mkdirSync(extensionsDir);
  const inst = await codeServerCli(['--extensions-dir', extensionsDir, '--install-extension', vsix]);
  assert.equal(inst.code, 0, `install failed: ${inst.out}`);
  assert.match(inst.out, /successfully installed/i);
  cs = await startCodeServer({ workspace: makeWorkspace(), trust: true, smokeDriver: false, extensionsDir });
  browser = await launchBrowser();
  page = await newPage(browser);
  await page.goto(cs.url);
});

after(async () => {
  await browser?.close();
  await cs?.stop();
});

async function shoot(name: string): Promise<void> {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`) }).catch(() => undefined);
}

async function openFromExplorer(folder: string, file: string): Promise<void> {
  const explorer = page.locator('.explorer-folders-view');
  if (!(await explorer.isVisible())) await page.locator('.activitybar').getByRole('tab', { name: /Explorer/ }).click();
  await explorer.waitFor({ timeout: 60_000 });
  const folderRow = explorer.locator('.monaco-list-row', { hasText: folder }).first();
  const fileRow = explorer.locator('.monaco-list-row', { hasText: file }).first();
  if (!(await fileRow.isVisible())) await folderRow.click();
  await fileRow.dblclick();
}

test('the installed VSIX opens a .moebench file as a notebook and renders outputs after Run All', async () => {
  try {
    // wait for a contribution of ours before opening, or the file opens as text
    await page.locator('.activitybar').getByRole('tab', { name: /MoE Bench/ }).waitFor({ timeout: 60_000 });
    await openFromExplorer('notebooks', 'quickstart.moebench');
    await page.locator('.notebook-editor .cell-list-container').waitFor({ timeout: 30_000 });
    await page.locator('.notebook-editor').getByRole('button', { name: /^Run All/ }).first().click();
    const frame = page.frameLocator('iframe.webview').frameLocator('#active-frame');
    // the cluster cell's node table, then the bench cell's summary table and Plotly charts
    await frame.locator('.moebench-doc', { hasText: 'Cluster sim' }).first().waitFor({ timeout: 60_000 });
    const bench = frame.locator('.moebench-doc', { hasText: 'Serving benchmark result' }).first();
    // outputs of cells scrolled out of view are not rendered: scroll down until the bench output shows
    const notebookArea = page.locator('.notebook-editor .cell-list-container').first();
    const box = await notebookArea.boundingBox();
    const deadline = Date.now() + 150_000;
    while ((await bench.count()) === 0) {
      if (Date.now() > deadline) throw new Error('the bench output never appeared');
      if (box) {
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        await page.mouse.wheel(0, 800);
      }
      await page.waitForTimeout(500);
    }
    await bench.scrollIntoViewIfNeeded();
    const benchText = await bench.innerText();
    assert.match(benchText, /SIMULATED/, 'emulator results are labelled simulated');
    const plot = bench.locator('.moebench-plot[data-rendered]').first();
    await plot.waitFor({ timeout: 60_000 });
    assert.ok((await bench.locator('.moebench-plot .main-svg').count()) > 0, 'Plotly drew SVG');
    await shoot('notebook-run-all');
  } catch (err) {
    await shoot('notebook-run-all-failure');
    throw err;
  }
});

test('the MoE Bench views show the sim cluster\'s GPUs and the running deployment, and Stop in the Deployments tree ends it', async () => {
  try {
    await page.locator('.activitybar').getByRole('tab', { name: /MoE Bench/ }).click();
    const pane = (title: string) => page.locator('.pane', { has: page.locator('.pane-header', { hasText: title }) });
    // Cluster: sim -> node1 -> 8 GPU rows from the emulated nvidia-smi stream
    const cluster = pane('Cluster');
    await cluster.locator('.monaco-list-row', { hasText: 'node1' }).first().waitFor({ timeout: 30_000 });
    await cluster.locator('.monaco-list-row', { hasText: 'node1' }).first().click();
    await cluster.locator('.monaco-list-row', { hasText: 'GPU 7' }).first().waitFor({ timeout: 30_000 });
    const gpuRows = await cluster.locator('.monaco-list-row', { hasText: /^GPU \d+/ }).count();
    assert.equal(gpuRows, 8, 'node1 lists its 8 GPUs');
    await shoot('cluster-tree');
    // Deployments: pd-small is ready; Stop from the tree, confirm the dialog
    const deployments = pane('Deployments');
    const row = deployments.locator('.monaco-list-row', { hasText: 'pd-small' }).first();
    await row.waitFor({ timeout: 30_000 });
    assert.match(await row.innerText(), /ready|healthy/i);
    await row.hover();
    await row.locator('.action-label[aria-label="Stop Deployment"]').click();
    await page.getByRole('dialog').getByRole('button', { name: 'Stop' }).click();
    await deployments.locator('.monaco-list-row', { hasText: /pd-small.*stopped|stopped/i }).first().waitFor({ timeout: 60_000 });
    await shoot('deployments-stopped');
    // only this code-server's emulators (the installed extension's cli.js), not other test runs'
    const ours = (l: string): boolean => l.includes(cs.extensionsDir) && (l.includes('sim launch-server') || l.includes('sim router'));
    let left: string[] = [];
    for (let i = 0; i < 50; i++) {
      left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter(ours);
      if (left.length === 0) break;
      await page.waitForTimeout(100);
    }
    assert.deepEqual(left, [], 'no emulated server is left after Stop');
  } catch (err) {
    await shoot('views-failure');
    throw err;
  }
});

test('a truncated notebook shows the error editor with "Open in Text Editor"', async () => {
  try {
    await openFromExplorer('fixtures', 'truncated.moebench');
    const dialog = page.getByRole('dialog').filter({ hasText: 'Not a valid MoE Bench notebook' }).first();
    await dialog.getByText(/Not a valid MoE Bench notebook/).first().waitFor({ timeout: 30_000 });
    assert.match(await dialog.innerText(), /line \d+, column \d+/);
    assert.ok(await dialog.getByRole('button', { name: 'Open in Text Editor' }).isVisible());
    await shoot('truncated-error');
    // leave the workbench usable for the next test
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.keyboard.press('Escape');
  } catch (err) {
    await shoot('truncated-failure');
    throw err;
  }
});

test('"MoE Bench: Quick Benchmark..." asks endpoint, dataset and load, then creates and runs a notebook', async () => {
  try {
    const input = page.locator('.quick-input-widget input');
    const command = async (name: string): Promise<void> => {
      await page.keyboard.press('F1');
      await input.waitFor();
      await input.fill(`>${name}`);
      await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click();
    };
    // one notebook on screen, so one webview
    await command('View: Close All Editors');
    const dontSave = page.getByRole('button', { name: /Don't Save/ });
    if (await dontSave.isVisible().catch(() => false)) await dontSave.click();
    await page.keyboard.press('F1');
    await input.waitFor();
    await input.fill('>MoE Bench: Quick Benchmark');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Quick Benchmark' }).first().click();
    const pick = async (text: string): Promise<void> => {
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
      await row.waitFor({ timeout: 15_000 });
      await row.click();
    };
    await pick('Embedded simulator');
    await pick('random 128 in / 128 out');
    await pick('everything at once');
    const frame = page.frameLocator('iframe.webview').last().frameLocator('#active-frame');
    const bench = frame.locator('.moebench-doc', { hasText: 'Serving benchmark result' }).first();
    const notebookArea = page.locator('.notebook-editor .cell-list-container').last();
    const deadline = Date.now() + 150_000;
    while ((await bench.count()) === 0) {
      if (Date.now() > deadline) throw new Error('the quick benchmark output never appeared');
      const box = await notebookArea.boundingBox();
      if (box) {
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        await page.mouse.wheel(0, 800);
      }
      await page.waitForTimeout(500);
    }
    // the key columns lead the result table (the rest are behind "Show all columns"): a row with
    // the throughput and the failure count, not just the headings
    const text = await bench.innerText();
    assert.match(text, /Request throughput \(req\/s\)/);
    assert.match(text, /Failed requests/);
    assert.match(text, /all at once\t[\d.]+\t[\d.]+/);
    await shoot('quick-benchmark');
  } catch (err) {
    await shoot('quick-benchmark-failure');
    throw err;
  }
});
