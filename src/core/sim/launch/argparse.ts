/**
 * A small emulation of Python argparse's parse_args, enough to accept and reject command
 * lines the way `python3 -m sglang.launch_server` and `sglang_router.launch_router` do:
 * unique-prefix matching, `--flag=value`, nargs '+' / '?', store_true, --no-X negation,
 * choices and type errors, and the "usage + prog: error: ..." message with exit status 2.
 */

export type ValueType = 'str' | 'int' | 'float' | 'int-suffix' | 'json';
export type OptionKind = 'flag' | 'bool-optional' | 'value' | 'list' | 'optional-value';

export interface OptionSpec {
  /** option strings, main first: ["--tp-size", "--tensor-parallel-size"] */
  flags: readonly string[];
  /** attribute name (argparse dest) */
  dest: string;
  kind: OptionKind;
  valueType: ValueType;
  defaultValue: unknown;
  choices?: readonly string[];
  required?: boolean;
  /** for 'list' options whose nargs is a fixed range, e.g. `--prefill URL [PORT]` = [1, 2] */
  nargsRange?: readonly [min: number, max: number];
  /** repeated occurrences append (argparse action="append") */
  append?: boolean;
}

export class ArgparseError extends Error {
  readonly exitCode = 2;
  constructor(
    readonly prog: string,
    readonly detail: string,
    readonly usage: string,
  ) {
    super(`${usage}\n${prog}: error: ${detail}`);
    this.name = 'ArgparseError';
  }
}

export function destOf(flag: string): string {
  return flag.replace(/^-+/, '').replace(/-/g, '_');
}

function displayName(spec: OptionSpec): string {
  return spec.flags.join('/');
}

const INT_RE = /^[+-]?\d+(?:_\d+)*$/;
const SUFFIX: Record<string, number> = { k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

function convert(spec: OptionSpec, raw: string, prog: string, usage: string): unknown {
  const fail = (typeName: string): never => {
    throw new ArgparseError(prog, `argument ${displayName(spec)}: invalid ${typeName} value: '${raw}'`, usage);
  };
  let value: unknown = raw;
  switch (spec.valueType) {
    case 'str':
      value = raw;
      break;
    case 'int': {
      const t = raw.trim();
      if (!INT_RE.test(t)) fail('int');
      value = Number.parseInt(t.replace(/_/g, ''), 10);
      break;
    }
    case 'int-suffix': {
      const m = /^\s*([+-]?\d+(?:\.\d+)?)\s*(k|K|M|G|T|Ki|Mi|Gi|Ti)?\s*$/.exec(raw);
      if (!m) fail('int');
      else value = Math.round(Number(m[1]) * (m[2] ? (SUFFIX[m[2]] ?? 1) : 1));
      break;
    }
    case 'float': {
      const t = raw.trim().toLowerCase();
      const n = t === 'inf' || t === '+inf' || t === 'infinity' ? Infinity : t === '-inf' ? -Infinity : t === 'nan' ? NaN : t === '' ? NaN : Number(t.replace(/_/g, ''));
      if (Number.isNaN(n) && t !== 'nan') fail('float');
      value = n;
      break;
    }
    case 'json':
      try {
        value = JSON.parse(raw);
      } catch {
        fail('loads');
      }
      break;
  }
  if (spec.choices && spec.choices.length > 0 && !spec.choices.includes(String(value))) {
    throw new ArgparseError(prog, `argument ${displayName(spec)}: invalid choice: '${raw}' (choose from ${spec.choices.map((c) => `'${c}'`).join(', ')})`, usage);
  }
  return value;
}

/** argparse treats "-5" and "-1.5" as values, not options, when no option looks like a number */
function looksLikeOption(arg: string): boolean {
  return arg.startsWith('-') && arg !== '-' && !/^-\d+(\.\d+)?$/.test(arg);
}

export interface ParseResult {
  values: Record<string, unknown>;
  /** dests the user gave explicitly */
  given: Set<string>;
}

export function parseArgs(prog: string, specs: readonly OptionSpec[], argv: readonly string[], usage = `usage: ${prog} [-h] ...`): ParseResult {
  const byFlag = new Map<string, OptionSpec>();
  const negations = new Map<string, OptionSpec>();
  for (const s of specs) {
    for (const f of s.flags) {
      if (s.kind === 'bool-optional' && f.startsWith('--no-')) negations.set(f, s);
      else byFlag.set(f, s);
    }
  }
  const allFlags = [...byFlag.keys(), ...negations.keys(), '--help'];
  const values: Record<string, unknown> = {};
  for (const s of specs) values[s.dest] = s.append ? [] : s.defaultValue;
  const given = new Set<string>();
  const unrecognized: string[] = [];

  const resolve = (name: string): { spec: OptionSpec; negated: boolean } | 'help' | undefined => {
    if (name === '-h' || name === '--help') return 'help';
    const exact = byFlag.get(name);
    if (exact) return { spec: exact, negated: false };
    const neg = negations.get(name);
    if (neg) return { spec: neg, negated: true };
    if (!name.startsWith('--')) return undefined;
    const matches = allFlags.filter((f) => f.startsWith(name));
    if (matches.length === 1) {
      if (matches[0] === '--help') return 'help';
      return resolve(matches[0]);
    }
    if (matches.length > 1) {
      throw new ArgparseError(prog, `ambiguous option: ${name} could match ${matches.join(', ')}`, usage);
    }
    return undefined;
  };

  let i = 0;
  while (i < argv.length) {
    const arg = argv[i];
    i++;
    if (arg === '--') {
      unrecognized.push(...argv.slice(i));
      break;
    }
    if (!looksLikeOption(arg)) {
      unrecognized.push(arg);
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const hit = resolve(name);
    if (hit === 'help') throw new ArgparseHelp(usage);
    if (!hit) {
      unrecognized.push(arg);
      continue;
    }
    const { spec, negated } = hit;
    given.add(spec.dest);
    if (spec.kind === 'flag' || spec.kind === 'bool-optional') {
      if (inline !== undefined) throw new ArgparseError(prog, `argument ${displayName(spec)}: ignored explicit argument '${inline}'`, usage);
      values[spec.dest] = !negated;
      continue;
    }
    const taken: string[] = [];
    if (inline !== undefined) taken.push(inline);
    const [minN, maxN] = spec.kind === 'value' ? [1, 1] : spec.kind === 'optional-value' ? [0, 1] : (spec.nargsRange ?? [1, Infinity]);
    while (taken.length < maxN && i < argv.length && !looksLikeOption(argv[i]) && argv[i] !== '--') {
      taken.push(argv[i]);
      i++;
    }
    if (taken.length < minN) {
      const expected = spec.kind === 'value' ? 'expected one argument' : minN === 1 && maxN === Infinity ? 'expected at least one argument' : `expected ${minN} to ${maxN} arguments`;
      throw new ArgparseError(prog, `argument ${displayName(spec)}: ${expected}`, usage);
    }
    let value: unknown;
    if (spec.kind === 'value' || spec.kind === 'optional-value') value = taken.length === 0 ? null : convert(spec, taken[0], prog, usage);
    else value = spec.nargsRange ? taken : taken.map((t) => convert(spec, t, prog, usage));
    if (spec.append) (values[spec.dest] as unknown[]).push(value);
    else values[spec.dest] = value;
  }
  const missing = specs.filter((s) => s.required && !given.has(s.dest));
  if (missing.length > 0) {
    throw new ArgparseError(prog, `the following arguments are required: ${missing.map(displayName).join(', ')}`, usage);
  }
  if (unrecognized.length > 0) {
    throw new ArgparseError(prog, `unrecognized arguments: ${unrecognized.join(' ')}`, usage);
  }
  return { values, given };
}

/** -h / --help: argparse prints usage and exits 0 */
export class ArgparseHelp extends Error {
  readonly exitCode = 0;
  constructor(readonly usage: string) {
    super(usage);
    this.name = 'ArgparseHelp';
  }
}
