import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalFlag, choicesAt, describeFlag, flagsFor, lookupFlag, scanArgs, SGLANG_CATALOG } from '../../../src/core/engines/catalog';
import { SGLANG_RELEASES } from '../../../src/core/engines/sglang/catalog-data';
import { compareVersions, parseVersion } from '../../../src/core/util/version';

// Figures below are what scripts/catalog-sglang.ts read from SGLang's release tags (v0.4.6 ...
// v0.5.17) and main at b26729f2245c (2026-08-16); see the generated data's header.

test('the catalog holds every release from 0.4.6 to 0.5.17 plus main, each with its source commit', () => {
  assert.equal(SGLANG_RELEASES[0].version, '0.4.6');
  assert.equal(SGLANG_RELEASES[0].commit, '84022c0e563c9b519fa16bf0eb7f9d750a728531');
  assert.equal(SGLANG_CATALOG.version, '0.5.17');
  assert.equal(SGLANG_CATALOG.commit, 'b26729f2245cc31992a0f29835e24c5fcac58b1d');
  assert.equal(SGLANG_RELEASES.length, 57);
  for (const r of SGLANG_RELEASES) assert.match(r.commit, /^[0-9a-f]{40}$/);
  // flags per release, as argparse registers them (124 in 0.4.6, 438 in 0.5.15, 492 on main)
  assert.deepEqual(
    ['0.4.6', '0.5.15', '0.5.17', 'main'].map((v) => SGLANG_RELEASES.find((r) => r.version === v)?.flags),
    [124, 438, 474, 492],
  );
});

test('every option of a release is known, with aliases mapped to the main spelling', () => {
  assert.ok(flagsFor('sglang', '0.5.15').length >= 438);
  assert.equal(canonicalFlag('sglang', '--ep'), '--ep-size');
  assert.equal(canonicalFlag('sglang', '--tp'), '--tp-size');
  assert.equal(canonicalFlag('sglang', '--expert-parallel-size'), '--ep-size');
  const info = lookupFlag('sglang', '0.5.15', '--disaggregation-bootstrap-port').info;
  assert.equal(info?.default, '8998');
  assert.equal(info?.type, 'int');
  assert.deepEqual(lookupFlag('sglang', '0.5.15', '--deepep-mode').info?.choices, ['auto', 'normal', 'low_latency']);
});

test('--enable-deepep-moe: accepted in 0.4.10.post1, deprecated from 0.4.10.post2, gone in 0.5.4.post1', () => {
  assert.equal(lookupFlag('sglang', '0.4.10.post1', '--enable-deepep-moe').status, 'ok');
  const dep = lookupFlag('sglang', '0.5.4', '--enable-deepep-moe');
  assert.equal(dep.status, 'deprecated');
  assert.equal(dep.replacement, '--moe-a2a-backend deepep');
  assert.match(dep.message ?? '', /deprecated since 0\.4\.10\.post2 \(2025-08-01, #8658\)/);
  const gone = lookupFlag('sglang', '0.5.4.post1', '--enable-deepep-moe');
  assert.equal(gone.status, 'removed');
  assert.match(gone.message ?? '', /removed in 0\.5\.4\.post1/);
  assert.equal(lookupFlag('sglang', 'latest', '--enable-deepep-moe').status, 'removed');
  assert.equal(lookupFlag('sglang', '0.4.10.post1', '--moe-a2a-backend').status, 'not-yet');
  assert.equal(lookupFlag('sglang', '0.4.10.post2', '--moe-a2a-backend').status, 'ok');
});

test('a release that was never tagged is "uncertain" where its neighbours differ, not guessed', () => {
  // there is no v0.5.0 tag: --moe-runner-backend is absent from 0.4.10.post2 and present in 0.5.1
  const mid = lookupFlag('sglang', '0.5.0', '--moe-runner-backend');
  assert.equal(mid.status, 'uncertain');
  assert.match(mid.message ?? '', /between 0\.4\.10\.post2 and 0\.5\.1|0\.5\.0 may not accept it/);
  assert.equal(lookupFlag('sglang', '0.5.1', '--moe-runner-backend').status, 'ok');
  // read from source: the decode-side PD sizes were still there in 0.5.8 and gone in 0.5.10
  assert.equal(lookupFlag('sglang', '0.5.8', '--disaggregation-decode-tp').status, 'ok');
  assert.equal(lookupFlag('sglang', '0.5.10', '--disaggregation-decode-tp').status, 'removed');
});

test('a flag newer than the catalog is a warning naming the catalog, for latest and for newer releases', () => {
  for (const v of ['latest', '0.5.18', '0.6.0']) {
    const l = lookupFlag('sglang', v, '--deepep-v2-mode');
    assert.equal(l.status, 'uncertain', v);
    assert.match(l.message ?? '', /not in the flag catalog, which holds SGLang up to 0\.5\.17 \(main at b26729f224, 2026-08-16\)/);
    assert.match(l.message ?? '', /npm run catalog:sglang/);
  }
  // past the catalog a new flag is likelier than a typo: no "did you mean" unless one letter is off
  assert.doesNotMatch(lookupFlag('sglang', 'latest', '--deepep-v3-mode').message ?? '', /did you mean/);
  assert.equal(lookupFlag('sglang', 'latest', '--enable-dp-atention').replacement, '--enable-dp-attention');
  // --dwdp-size is on main and in 0.5.17, not in 0.5.15
  assert.equal(lookupFlag('sglang', 'latest', '--dwdp-size').status, 'ok');
  assert.equal(lookupFlag('sglang', '0.5.15', '--dwdp-size').status, 'not-yet');
  // a release the catalog holds exactly still refuses what it does not have
  assert.equal(lookupFlag('sglang', '0.5.17', '--deepep-v2-mode').status, 'unknown');
});

test('choices follow the release: --moe-a2a-backend grew from [deepep] to ten backends', () => {
  assert.deepEqual(choicesAt('sglang', '0.4.10.post2', '--moe-a2a-backend').choices, ['deepep']);
  assert.ok(!choicesAt('sglang', '0.5.15', '--moe-a2a-backend').choices?.includes('pplx'));
  const head = choicesAt('sglang', 'latest', '--moe-a2a-backend');
  assert.ok(head.choices?.includes('pplx'));
  // latest is main today, which may have moved past the commit read: not exact
  assert.equal(head.exact, false);
  assert.equal(choicesAt('sglang', '0.5.17', '--moe-a2a-backend').exact, true);
  // 0.5.0 was never tagged: the list of the release before it, not exact
  assert.equal(choicesAt('sglang', '0.5.0', '--moe-a2a-backend').exact, false);
});

test('hover names the release history and the catalog source', () => {
  const info = lookupFlag('sglang', 'latest', '--dwdp-size').info;
  assert.ok(info);
  const text = describeFlag(info, '0.5.15');
  assert.match(text, /added 0\.5\.17/);
  assert.match(text, /\*\*0\.5\.15:\*\* --dwdp-size first appeared in 0\.5\.17/);
  assert.match(text, /catalog: SGLang 0\.5\.17, source b26729f224/);
});

test('argparse prefixes: --mem-frac resolves, --pp is ambiguous, a typo is unknown with a suggestion', () => {
  const frac = lookupFlag('sglang', '0.5.15', '--mem-frac');
  assert.equal(frac.status, 'ok');
  assert.equal(frac.info?.name, '--mem-fraction-static');
  assert.equal(frac.viaPrefix, true);
  const pp = lookupFlag('sglang', '0.5.15', '--pp');
  assert.equal(pp.status, 'unknown');
  assert.match(pp.message ?? '', /ambiguous/);
  const typo = lookupFlag('sglang', '0.5.15', '--enable-dp-atention');
  assert.equal(typo.status, 'unknown');
  assert.equal(typo.replacement, '--enable-dp-attention');
  // older than every release read: not an error
  assert.equal(lookupFlag('sglang', '0.4.5', '--some-old-option').status, 'uncertain');
});

test('versions: vLLM four-part releases parse and sort between their neighbours', () => {
  assert.deepEqual(parseVersion('0.10.1.1').parts, [0, 10, 1, 1]);
  assert.equal(compareVersions('0.10.1.1', '0.10.1'), 1);
  assert.equal(compareVersions('0.10.1.1', '0.10.2'), -1);
  assert.equal(parseVersion('v0.4.6.post2').text, '0.4.6.post2');
});

test('--flag=value is looked up by its flag', () => {
  assert.equal(lookupFlag('sglang', '0.5.15', '--tp-size=8').info?.name, '--tp-size');
});

test('scanArgs consumes values the way argparse does', () => {
  const scanned = scanArgs('sglang', '0.5.15', ['--cuda-graph-bs-decode', '1', '2', '4', '--disable-radix-cache', '--page-size', '1', 'stray']);
  assert.deepEqual(scanned.map((s) => [s.index, s.flag, s.value]), [
    [0, '--cuda-graph-bs-decode', '1 2 4'],
    [4, '--disable-radix-cache', undefined],
    [5, '--page-size', '1'],
    [7, '', 'stray'],
  ]);
});

test('vLLM: every serve option read from source (main 5ac2684), with the hand notes on first releases', () => {
  assert.equal(lookupFlag('vllm', '0.12.0', '--all2all-backend').status, 'ok');
  assert.equal(lookupFlag('vllm', '0.10.1', '--all2all-backend').status, 'not-yet');
  assert.equal(canonicalFlag('vllm', '-tp'), '--tensor-parallel-size');
  // read from vllm/config/parallel.py: the backend list of main, deepep_v2 included
  assert.ok(lookupFlag('vllm', 'latest', '--all2all-backend').info?.choices?.includes('deepep_v2'));
  assert.equal(lookupFlag('vllm', '0.12.0', '--kv-cache-dtype').status, 'ok');
  assert.equal(lookupFlag('vllm', '0.12.0', '--max-num-seqs').info?.type, 'int');
  assert.ok(flagsFor('vllm', 'latest').length >= 278);
  // unknown to the source read: a warning-level "uncertain" naming it, never an error
  const unknown = lookupFlag('vllm', '0.10.1.1', '--no-such-option');
  assert.equal(unknown.status, 'uncertain');
  assert.match(unknown.message ?? '', /not among vLLM's serve options read from main at 5ac2684976 \(2026-08-07\)/);
  // a hand-listed spelling main no longer declares is gone at latest
  assert.equal(lookupFlag('vllm', 'latest', '--num-redundant-experts').status, 'removed');
});
