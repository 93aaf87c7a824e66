/** Issue 17, class 10: a flag typed in a cell cannot break out of the hover's code span. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codeSpan, flagHover } from '../../../src/core/lang/flag-assist';

test('codeSpan fences any run of backticks and flattens line breaks', () => {
  for (const s of ['--x`](http://evil/)` ![i](http://evil/i.png)', '``--a```b', '`', 'a\nb', '--plain']) {
    const span = codeSpan(s);
    const fence = /^`+/.exec(span)?.[0] ?? '';
    const inner = span.slice(fence.length, span.length - fence.length);
    assert.ok(!inner.includes(fence), `${JSON.stringify(s)} -> ${span}`);
    assert.ok(!span.includes('\n'));
  }
});

test('hovering an unknown flag with a backtick shows it as code, with no link or image outside the span', () => {
  const flag = '--evil`](http://evil.example/) ![x](http://evil.example/x.png) `';
  const text = ['name: d', 'cluster: c', 'engine: { kind: sglang, version: "0.5.15" }', 'model: /m', 'unified:', '  nodes: [n]', `  extraArgs: [${JSON.stringify(flag)}]`].join('\n');
  const offset = text.indexOf('--evil') + 2;
  const hover = flagHover(text, offset);
  assert.ok(hover);
  const span = codeSpan(flag);
  assert.ok(hover.markdown.startsWith(span), hover.markdown);
  assert.doesNotMatch(hover.markdown.slice(span.length), /\]\(|!\[/);
});
