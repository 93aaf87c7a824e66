import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDeployCell } from '../../../src/core/plan/planner';
import { parseDeploySpec } from '../../../src/core/spec/deploy-spec';
import { resolveDeployment } from '../../../src/core/plan/resolve';
import { describeFlag, lookupFlag, SGLANG_CATALOG } from '../../../src/core/engines/catalog';
import { sshCluster } from './helpers';

test('defaults: sglang at the newest catalog release, tp = all GPUs of the nodes, router on for PD at 8000', () => {
  const { spec } = parseDeploySpec(['name: d', 'cluster: c', 'model: /m/DeepSeek-V3', 'prefill: { nodes: [gpu-01, gpu-02] }', 'decode: { nodes: [gpu-03] }', ''].join('\n'));
  const d = resolveDeployment(spec, sshCluster('c', 3));
  assert.equal(d.engine, 'sglang');
  assert.equal(d.version.text, SGLANG_CATALOG.version);
  assert.deepEqual(d.groups.map((g) => [g.role, g.tp, g.dp, g.ep, g.ports.server, g.ports.distInit]), [
    ['prefill', 16, 1, 1, 30000, 5757],
    ['decode', 8, 1, 1, 30000, 5757],
  ]);
  assert.equal(d.router.enabled, true);
  assert.equal(d.router.kind, 'sglang_router');
  assert.equal(d.router.port, 8000);
  assert.equal(d.router.node, 'gpu-01');
});

test('group settings override top-level ones key by key, and env merges', () => {
  const { spec } = parseDeploySpec(
    ['name: d', 'cluster: c', 'model: /m', 'memory: { fraction: 0.8, pageSize: 1 }', 'env: { A: "1", B: "2" }', 'unified:', '  nodes: [gpu-01]', '  memory: { fraction: 0.7 }', '  env: { B: "3" }', ''].join('\n'),
  );
  const [g] = resolveDeployment(spec, sshCluster('c', 1)).groups;
  assert.deepEqual(g.memory, { fraction: 0.7, pageSize: 1 });
  assert.deepEqual(g.env, { A: '1', B: '3' });
  assert.deepEqual(g.origin('memory', 'fraction'), ['unified', 'memory', 'fraction']);
  assert.deepEqual(g.origin('memory', 'pageSize'), ['memory', 'pageSize']);
});

test('schema problems come back with lines, not thrown, from checkDeployCell', () => {
  const text = ['name: d', 'cluster: c', 'model: /m', 'unified:', '  nodes: [gpu-01]', '  env:', '    BAD-NAME: "1"', '  parallel: { tp: 0 }', ''].join('\n');
  const issues = checkDeployCell(text);
  assert.deepEqual(issues.map((i) => [i.rule, i.line]).sort(), [['schema', 7], ['schema', 8]]);
});

test('unified and prefill/decode are exclusive, and PD needs both sides', () => {
  assert.match(checkDeployCell('name: d\ncluster: c\nmodel: /m\nprefill: { nodes: [a] }\n')[0].message, /needs a decode group/);
  const both = checkDeployCell('name: d\ncluster: c\nmodel: /m\nunified: { nodes: [a] }\nprefill: { nodes: [b] }\ndecode: { nodes: [c] }\n');
  assert.equal(both[0].line, 4);
});

test('a YAML number version and a v-prefix are accepted; nonsense is not', () => {
  assert.equal(parseDeploySpec('name: d\ncluster: c\nengine: { version: v0.4.7 }\nmodel: /m\nunified: { nodes: [a] }\n').spec.engine?.version, 'v0.4.7');
  const bad = checkDeployCell('name: d\ncluster: c\nengine: { version: "new" }\nmodel: /m\nunified: { nodes: [a] }\n');
  assert.equal(bad[0].line, 3);
  assert.match(bad[0].message, /0\.5\.15/);
});

test('hover text for a renamed flag names the replacement and what the chosen release does', () => {
  const info = lookupFlag('sglang', '0.4.6.post2', '--enable-deepep-moe').info;
  assert.ok(info);
  const text = describeFlag(info, '0.5.6.post2');
  assert.match(text, /deprecated 0\.4\.10\.post2.*use --moe-a2a-backend deepep/);
  assert.match(text, /\*\*0\.5\.6\.post2:\*\* --enable-deepep-moe was removed in 0\.5\.4\.post1/);
});
