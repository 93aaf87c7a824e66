import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { reportCommand } from '../../../src/cli/commands/report';
import { FIXTURES, ReportLab } from '../../unit/report/helpers';

const lab = new ReportLab();
let browser: Browser;

before(async () => {
  await lab.start();
  await lab.bench('ours', 'sim-tp8', [2, 8]);
  const ids = await lab.bench('ours-tp4', 'sim-tp4', [2, 8]);
  await lab.addPower(ids[0], 400);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
});
after(async () => {
  await browser?.close();
  await lab.stop();
});

test('the HTML report opened from a file with networking blocked draws every chart', async () => {
  const file = path.join(lab.dir, 'out', 'report.html');
  const code = await reportCommand([
    '--runs',
    lab.session.runStoreDir,
    '--import',
    path.join(FIXTURES, 'sglang-bench-serving.jsonl'),
    '--import',
    `${path.join(FIXTURES, 'guidellm-benchmarks.json')}=guidellm`,
    '--baseline',
    'ours',
    '--gpus',
    '8',
    '--format',
    'html',
    '-o',
    file,
  ]);
  assert.equal(code, 0);
  const html = await readFile(file, 'utf8');
  assert.doesNotMatch(html, /<script[^>]*\ssrc=|<link[^>]*\shref=/i, 'nothing is loaded from elsewhere');

  const context = await browser.newContext({ offline: true, viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const blocked: string[] = [];
  const errors: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const sections = await page.locator('section.plot').count();
    assert.equal(sections, 4, 'throughput, latency, Pareto, energy');
    await page.waitForFunction((n) => document.querySelectorAll('.js-plotly-plot').length === n, sections, { timeout: 30_000 });
    const traces = await page.$$eval('.js-plotly-plot', (els) => els.map((el) => el.querySelectorAll('g.trace').length));
    assert.equal(traces.length, 4);
    assert.ok(traces.every((n) => n > 0), `every chart has drawn traces: ${traces.join(', ')}`);
    const titles = await page.$$eval('.js-plotly-plot .gtitle', (els) => els.map((e) => e.textContent ?? ''));
    assert.deepEqual(titles, ['Output throughput vs max concurrency', 'Latency percentiles vs max concurrency', 'Throughput per GPU vs tokens/s per user', 'Energy per output token vs max concurrency']);
    // the Pareto chart has a point per compared sweep step (4 ours + 3 SGLang + 2 GuideLLM)
    const paretoPoints = await page.$$eval('.js-plotly-plot', (els) => els[2].querySelectorAll('g.trace.scatter .point').length);
    assert.equal(paretoPoints, 9);
    const rows = await page.locator('table tbody tr').count();
    assert.equal(rows, 9);
    assert.match(await page.locator('.banner').innerText(), /Simulated/);
    assert.deepEqual(blocked, [], 'the report asked for nothing over the network');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
