import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planCommand } from '../../../src/cli/commands/plan';
import { envNameRisk } from '../../../src/core/launch/env-policy';
import { checkDeployCell, planDeployCell } from '../../../src/core/plan';
import { serializeNotebook } from '../../../src/core/notebook/format';
import { SpecValidationError } from '../../../src/core/util/errors';

const CLUSTER = { name: 'here', kind: 'local', nodes: [{ name: 'local', address: '127.0.0.1', gpus: 16 }] };

function unifiedCell(envLine: string, groupEnv = ''): string {
  return ['name: e', 'cluster: here', 'engine: { kind: sglang, version: "0.5.15" }', 'model: /models/m', envLine, 'unified:', '  nodes: [local]', '  parallel: { tp: 8 }', groupEnv ? `  ${groupEnv}` : ''].filter(Boolean).join('\n');
}

function pdCell(routerEnv: string): string {
  return ['name: e', 'cluster: here', 'engine: { kind: sglang, version: "0.5.15" }', 'model: /models/m', 'prefill:', '  nodes: [local]', '  gpusPerNode: 8', '  parallel: { tp: 8 }', '  ports: { server: 41000, bootstrap: 41500 }', 'decode:', '  nodes: [local]', '  gpusPerNode: 8', '  baseGpuId: 8', '  parallel: { tp: 8 }', '  ports: { server: 42000 }', `router: { port: 43000, env: { ${routerEnv} } }`].join('\n');
}

/** the issue's examples and members of every family the policy covers */
const REFUSED = [
  'BASH_ENV', 'ENV', 'SHELLOPTS', 'BASHOPTS', 'PS4', 'PS1', 'PROMPT_COMMAND', 'IFS', 'BASH_FUNC_foo', 'BASH_FUNC_ls',
  'LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'LD_ANYTHING_NEW', 'DYLD_INSERT_LIBRARIES', 'GCONV_PATH', 'GLIBC_TUNABLES',
  'PYTHONSTARTUP', 'PYTHONPATH', 'PYTHONHOME', 'PYTHONINSPECT', 'PYTHONWARNINGS', 'PYTHONBREAKPOINT', 'PYTHONUSERBASE', 'PYTHONSOMETHINGNEW',
  'PATH', 'HOME', 'ZDOTDIR', 'XDG_CONFIG_HOME', 'PERL5OPT', 'RUBYOPT', 'NODE_OPTIONS', 'JAVA_TOOL_OPTIONS', 'LUA_INIT',
  'NCCL_NET_PLUGIN', 'NCCL_TUNER_PLUGIN', 'NCCL_PROFILER_PLUGIN', 'SOME_LIB_PLUGIN_PATH', 'CC', 'CXX', 'GIT_SSH_COMMAND', 'EDITOR',
];
const HARMLESS = ['SGLANG_ENABLE_JIT_DEEPGEMM', 'NCCL_DEBUG', 'NCCL_IB_HCA', 'CUDA_VISIBLE_DEVICES', 'PYTHONUNBUFFERED', 'PYTHONHASHSEED', 'MC_TE_METRIC', 'SGL_ENABLE_JIT_DEEPGEMM', 'OMP_NUM_THREADS', 'TORCH_CUDA_ARCH_LIST', 'ld_preload'];

function refusal(text: string, allow: string[] = []): SpecValidationError | undefined {
  try {
    planDeployCell(text, CLUSTER, 'e', { allowEnvNames: allow });
    return undefined;
  } catch (err) {
    assert.ok(err instanceof SpecValidationError, String(err));
    return err;
  }
}

test('every name that changes how a shell, the loader or an interpreter starts is refused, naming the field and its line', () => {
  for (const name of REFUSED) {
    assert.ok(envNameRisk(name), `${name} should be refused`);
    for (const [text, field, line] of [
      [unifiedCell(`env: { ${name}: "$(touch /tmp/x)" }`), `env.${name}`, 5],
      [unifiedCell('', `env: { ${name}: "1" }`), `unified.env.${name}`, 8],
      [pdCell(`${name}: x`), `router.env.${name}`, 16],
    ] as const) {
      const err = refusal(text);
      assert.ok(err, `${name} in ${field} was planned`);
      const issue = err.issues.find((i) => i.where.field === field);
      assert.ok(issue, `${name}: no issue names ${field}: ${JSON.stringify(err.issues.map((i) => i.where))}`);
      assert.equal(issue.where.line, line, `${field}`);
      assert.match(issue.message, /refused/);
      assert.match(issue.message, /allow/i);
    }
  }
});

test('harmless names (engine tuning) are planned as before', () => {
  for (const name of HARMLESS) {
    assert.equal(envNameRisk(name), undefined, name);
    const { plan } = planDeployCell(unifiedCell(`env: { ${name}: "1" }`), CLUSTER, 'e');
    assert.equal(plan.processes[0].env[name], '1');
  }
});

test('a name the user allowed outside the notebook is planned; allowing one name does not allow another', () => {
  const text = unifiedCell('env: { LD_LIBRARY_PATH: /usr/local/cuda/lib64, PYTHONPATH: /opt/x }');
  const both = refusal(text);
  assert.equal(both?.issues.length, 2);
  const one = refusal(text, ['LD_LIBRARY_PATH']);
  assert.deepEqual(one?.issues.map((i) => i.where.field), ['env.PYTHONPATH']);
  assert.equal(refusal(text, ['LD_LIBRARY_PATH', 'PYTHONPATH']), undefined);
});

test('the language server sees refused names even before the cluster is known', () => {
  const issues = checkDeployCell(unifiedCell('env: { BASH_ENV: x }'));
  assert.equal(issues.length, 1);
  assert.equal(issues[0].rule, 'env-name');
  assert.equal(issues[0].line, 5);
});

test('moebench plan refuses BASH_ENV with the cell line instead of printing it; --allow-env lets it through', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-envplan-'));
  try {
    const file = join(dir, 'n.moebench');
    const cluster = ['name: here', 'kind: local', 'gpusPerNode: 16'].join('\n');
    writeFileSync(file, serializeNotebook({ metadata: {}, cells: [{ kind: 'code', language: 'moebench-cluster', source: cluster }, { kind: 'code', language: 'moebench-deploy', source: unifiedCell('env: { BASH_ENV: "$(id)" }').replace('nodes: [local]', 'nodes: [local]') }] }));
    const capture = async (args: string[]): Promise<{ code: number; out: string; err: string }> => {
      let out = '';
      let err = '';
      const o = process.stdout.write.bind(process.stdout);
      const e = process.stderr.write.bind(process.stderr);
      process.stdout.write = ((c: string | Uint8Array) => ((out += String(c)), true)) as typeof process.stdout.write;
      process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
      try {
        return { code: await planCommand(args), out, err };
      } finally {
        process.stdout.write = o;
        process.stderr.write = e;
      }
    };
    const refused = await capture([file]);
    assert.equal(refused.code, 1, refused.err + refused.out);
    assert.match(refused.err, /line 5.*BASH_ENV is refused/);
    assert.doesNotMatch(refused.out, /BASH_ENV/);
    const allowed = await capture([file, '--allow-env', 'BASH_ENV']);
    assert.equal(allowed.code, 0, allowed.err);
    assert.match(allowed.out, /BASH_ENV/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the language server reports a refused name, and not one the user allowed in settings', async () => {
  const { diagnoseCell } = await import('../../../src/core/lang/diagnose');
  const cluster = { id: 'c', language: 'moebench-cluster', text: 'name: here\nkind: local\ngpusPerNode: 16' };
  const deploy = { id: 'd', language: 'moebench-deploy', text: unifiedCell('env: { LD_LIBRARY_PATH: /usr/local/cuda/lib64 }') };
  const refused = diagnoseCell(deploy, [cluster, deploy]).filter((d) => d.rule === 'env-name');
  assert.equal(refused.length, 1);
  assert.equal(refused[0].line, 5);
  assert.deepEqual(diagnoseCell(deploy, [cluster, deploy], { allowEnvNames: ['LD_LIBRARY_PATH'] }).filter((d) => d.rule === 'env-name'), []);
});
