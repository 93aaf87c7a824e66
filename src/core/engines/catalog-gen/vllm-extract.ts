import { CatalogSourceError, classFields, collectConstants, defaultText, evaluatePyExpr, findClasses, helpSummary, parseModule, type ExtractedFlag, type PyEnv, type PyModule, type PySymbols } from './extract';
import { PyParser, type PyExpr } from './python-lite';

/**
 * `vllm serve` flags from vLLM's source, statically:
 * - vllm/engine/arg_utils.py, EngineArgs.add_cli_args: `group.add_argument("--flag", "-x",
 *   **parallel_kwargs["field"])` where `parallel_kwargs = get_kwargs(ParallelConfig)`; get_kwargs
 *   (same file, _compute_kwargs) derives type, default and choices from the config dataclass
 *   field: bool -> --flag/--no-flag (BooleanOptionalAction), Literal -> choices, list -> nargs +,
 *   dict / nested config -> a JSON string; the help is the attribute docstring below the field.
 * - vllm/entrypoints/openai/cli_args.py, FrontendArgs (and its base): every field becomes
 *   `--field-name` the same way.
 * Config classes are found by name in vllm/config/*.py.
 */
export const VLLM_ARG_UTILS_PATH = 'vllm/engine/arg_utils.py';
export const VLLM_FRONTEND_ARGS_PATH = 'vllm/entrypoints/openai/cli_args.py';

export function isVllmSourcePath(path: string): boolean {
  return path === VLLM_ARG_UTILS_PATH || path === VLLM_FRONTEND_ARGS_PATH || (path.startsWith('vllm/config/') && path.endsWith('.py'));
}

interface FieldInfo {
  annotation: PyExpr;
  default?: PyExpr;
  help: string;
  mod: PyModule;
  line: number;
}

/** class name -> field name -> info, over every config module */
function configFields(mods: PyModule[]): Map<string, Map<string, FieldInfo>> {
  const out = new Map<string, Map<string, FieldInfo>>();
  for (const mod of mods) {
    for (const cls of findClasses(mod)) {
      const fields = new Map<string, FieldInfo>();
      for (const f of classFields(mod, cls)) fields.set(f.name, { annotation: f.annotation, default: f.default, help: docAfter(mod, f.line), mod, line: f.line });
      // a subclass (FrontendArgs(BaseFrontendArgs)) inherits its base's fields
      const header = mod.lines[cls.headerIndex];
      const bases = mod.tokens.slice(header.start + 2, header.end).filter((t) => t.kind === 'name').map((t) => t.text);
      for (const b of bases) for (const [k, v] of out.get(b) ?? []) if (!fields.has(k)) fields.set(k, v);
      out.set(cls.name, new Map([...fields]));
    }
  }
  return out;
}

/** the attribute docstring: a bare string statement on the logical line after the field */
function docAfter(mod: PyModule, line: number): string {
  const idx = mod.lines.findIndex((l) => l.line === line);
  const next = mod.lines[idx + 1];
  if (!next) return '';
  const t = mod.tokens[next.start];
  return t.kind === 'string' && next.end === next.start + 1 ? (t.value ?? '') : '';
}

function nameOf(e: PyExpr): string {
  return e.kind === 'name' ? e.name : e.kind === 'attr' ? e.attr : e.kind === 'str' ? e.value : e.raw;
}

/** the types named in an annotation: X | None, Optional[X], Union[...], aliases resolved */
function typeParts(e: PyExpr, symbols: PySymbols, depth = 0): PyExpr[] {
  if (depth > 8) return [e];
  if (e.kind === 'binop' && e.op === '|') return [...typeParts(e.left, symbols, depth + 1), ...typeParts(e.right, symbols, depth + 1)];
  if (e.kind === 'subscript' && ['Optional', 'Union'].includes(nameOf(e.object))) return e.items.flatMap((x) => typeParts(x, symbols, depth + 1));
  if (e.kind === 'subscript' && nameOf(e.object) === 'Annotated') return typeParts(e.items[0], symbols, depth + 1);
  if (e.kind === 'str') {
    // a quoted forward reference
    return [{ kind: 'name', name: e.value, raw: e.value, line: e.line }];
  }
  if (e.kind === 'name' && symbols.has(e.name)) {
    const alias = symbols.get(e.name)?.expr;
    if (alias && (alias.kind === 'subscript' || alias.kind === 'binop')) return typeParts(alias, symbols, depth + 1);
  }
  return [e];
}

function kwargsFromField(field: FieldInfo, env: PyEnv, knownClasses: Set<string>): Pick<ExtractedFlag, 'type' | 'default' | 'choices' | 'help'> {
  const parts = typeParts(field.annotation, env.symbols).filter((p) => !(p.kind === 'name' && p.name === 'None'));
  const names = parts.map((p) => (p.kind === 'subscript' ? nameOf(p.object) : nameOf(p)));
  let type = 'str';
  let choices: string[] | undefined;
  if (names.some((n) => knownClasses.has(n))) type = 'JSON string';
  else if (names.includes('bool') && names.includes('str')) type = 'str (value optional)';
  else if (names.includes('bool')) type = 'flag (--no-… form negates)';
  else if (names.includes('Literal')) {
    const lit = parts.find((p) => p.kind === 'subscript' && nameOf(p.object) === 'Literal');
    if (lit?.kind === 'subscript') choices = lit.items.map((x) => evaluatePyExpr(x, env)).filter((x): x is string => typeof x === 'string');
    type = 'str';
  } else if (names.some((n) => ['list', 'List', 'tuple', 'Tuple', 'set', 'Set'].includes(n))) {
    const coll = parts.find((p) => p.kind === 'subscript' && ['list', 'List', 'tuple', 'Tuple', 'set', 'Set'].includes(nameOf(p.object)));
    const inner = coll?.kind === 'subscript' ? nameOf(coll.items[0]) : 'str';
    type = `list[${['int', 'float', 'str'].includes(inner) ? inner : 'str'}]`;
  } else if (names.includes('int')) type = 'int';
  else if (names.includes('float')) type = 'float';
  else if (names.some((n) => n === 'dict' || n === 'Dict')) type = 'JSON string';
  return { type, choices, default: field.default ? defaultText(field.default, env) : '(required)', help: helpSummary(field.help) };
}

/** Every `vllm serve` option declared by EngineArgs.add_cli_args and the OpenAI frontend. */
export function extractVllmServeArgs(files: ReadonlyMap<string, string>): ExtractedFlag[] {
  const argUtilsSrc = files.get(VLLM_ARG_UTILS_PATH);
  if (argUtilsSrc === undefined) throw new CatalogSourceError(`${VLLM_ARG_UTILS_PATH} is missing: point the script at a vLLM checkout (the folder holding vllm/)`);
  const argUtils = parseModule(VLLM_ARG_UTILS_PATH, argUtilsSrc);
  const configMods = [...files.keys()].filter((p) => p.startsWith('vllm/config/')).sort().map((p) => parseModule(p, files.get(p) ?? ''));
  const frontendSrc = files.get(VLLM_FRONTEND_ARGS_PATH);
  const frontend = frontendSrc !== undefined ? parseModule(VLLM_FRONTEND_ARGS_PATH, frontendSrc) : undefined;
  const symbols: PySymbols = new Map();
  for (const m of [...configMods, argUtils, ...(frontend ? [frontend] : [])]) collectConstants(m, symbols);
  const classes = configFields([...configMods, argUtils, ...(frontend ? [frontend] : [])]);
  const knownClasses = new Set([...classes.keys()].filter((n) => /Config$/.test(n)));
  const env: PyEnv = { symbols, classDefaults: new Map([...classes].map(([k, v]) => [k, new Map([...v].map(([f, i]) => [f, i.default]))])), fstringValues: {} };
  const engine = findClasses(argUtils).find((c) => c.name === 'EngineArgs');
  if (!engine) throw new CatalogSourceError(`${VLLM_ARG_UTILS_PATH}: no class EngineArgs`);
  // `parallel_kwargs = get_kwargs(ParallelConfig)` -> parallel_kwargs: ParallelConfig
  const kwargsOf = new Map<string, string>();
  for (let i = 0; i < argUtils.tokens.length - 4; i++) {
    const t = argUtils.tokens;
    if (t[i].kind === 'name' && t[i + 1].text === '=' && t[i + 2].text === 'get_kwargs' && t[i + 3].text === '(') kwargsOf.set(t[i].text, t[i + 4].text);
  }
  const out: ExtractedFlag[] = [];
  const seen = new Set<string>();
  const add = (f: ExtractedFlag) => {
    if (seen.has(f.flags[0])) return;
    seen.add(f.flags[0]);
    out.push(f);
  };
  const def = engine.lines.find((l) => argUtils.tokens[l.start].text === 'def' && argUtils.tokens[l.start + 1].text === 'add_cli_args');
  if (!def) throw new CatalogSourceError(`${VLLM_ARG_UTILS_PATH}: EngineArgs has no add_cli_args`);
  for (let i = def.end; i < argUtils.tokens.length; i++) {
    const t = argUtils.tokens[i];
    if (t.indent <= def.indent && t.kind !== 'newline' && i > def.end && argUtils.lines.some((l) => l.start === i)) break;
    if (!(t.kind === 'name' && t.text === 'add_argument' && argUtils.tokens[i - 1]?.text === '.' && argUtils.tokens[i + 1]?.text === '(')) continue;
    const p = new PyParser(argUtils.tokens, argUtils.src, argUtils.file);
    p.pos = i - 2;
    let call: PyExpr;
    try {
      call = p.expr();
    } catch (e) {
      throw new CatalogSourceError(`${VLLM_ARG_UTILS_PATH}:${t.line}: cannot read this add_argument call: ${(e as Error).message}`);
    }
    if (call.kind !== 'call') continue;
    const flags = call.args.map((a) => evaluatePyExpr(a, env)).filter((s): s is string => typeof s === 'string' && s.startsWith('-'));
    if (!flags.length) continue;
    const spread = call.kwargs.find((k) => k.name === '**')?.value;
    let base: Pick<ExtractedFlag, 'type' | 'default' | 'choices' | 'help'> = { type: 'str', default: 'None', help: '' };
    let spreadVar: string | undefined;
    let spreadField: string | undefined;
    let spreadDefault: string | undefined;
    if (spread?.kind === 'subscript' && spread.object.kind === 'name') {
      spreadVar = spread.object.name;
      const f = evaluatePyExpr(spread.items[0], env);
      spreadField = typeof f === 'string' ? f : undefined;
    } else if (spread?.kind === 'dict') {
      // **{**scheduler_kwargs["max_num_seqs"], "default": None}: the field's kwargs with an override
      const m = /\*\*\s*(\w+)\[\s*["'](\w+)["']\s*\]/.exec(spread.raw);
      if (m) [, spreadVar, spreadField] = m;
      const d = /["']default["']\s*:\s*([^,}]+)/.exec(spread.raw);
      if (d) spreadDefault = d[1].trim();
    }
    if (spreadVar && spreadField) {
      const cls = kwargsOf.get(spreadVar);
      const field = cls ? classes.get(cls)?.get(spreadField) : undefined;
      if (field) base = kwargsFromField(field, env, knownClasses);
      if (spreadDefault !== undefined) base = { ...base, default: spreadDefault };
    }
    const explicit = (name: string) => call.kind === 'call' ? call.kwargs.find((k) => k.name === name)?.value : undefined;
    const action = explicit('action');
    if (action) base = { ...base, type: nameOf(action) === 'BooleanOptionalAction' ? 'flag (--no-… form negates)' : nameOf(action) === 'store_true' ? 'flag' : base.type };
    const typeExpr = explicit('type');
    if (typeExpr) base = { ...base, type: ['int', 'float', 'str'].includes(nameOf(typeExpr)) ? nameOf(typeExpr) : base.type };
    if (explicit('choices')) {
      const c = evaluatePyExpr(explicit('choices'), env);
      if (Array.isArray(c)) base = { ...base, choices: c.map(String) };
    }
    if (explicit('default')) base = { ...base, default: defaultText(explicit('default'), env) };
    const helpExpr = explicit('help');
    if (helpExpr) {
      const h = evaluatePyExpr(helpExpr, env);
      if (typeof h === 'string') base = { ...base, help: helpSummary(h) };
    }
    const deprecated = evaluatePyExpr(explicit('deprecated'), env) === true || /^\s*\[?deprecated\b/i.test(base.help);
    add({ flags, dest: flags[0].replace(/^-+/, '').replace(/-/g, '_'), ...base, deprecated, origin: `${VLLM_ARG_UTILS_PATH}:${call.line}` });
  }
  // the frontend: one flag per field, `--field-name`
  for (const name of ['FrontendArgs']) {
    const fields = classes.get(name);
    for (const [field, info] of fields ?? []) {
      // ClassVar constants and private fields are not dataclass fields, so no flags
      if ((info.annotation.kind === 'subscript' && nameOf(info.annotation.object) === 'ClassVar') || field.startsWith('_')) continue;
      add({ flags: [`--${field.replace(/_/g, '-')}`], dest: field, ...kwargsFromField(info, env, knownClasses), deprecated: false, origin: `${info.mod.file}:${info.line}` });
    }
  }
  if (out.length === 0) throw new CatalogSourceError(`${VLLM_ARG_UTILS_PATH}: found no flags`);
  return out;
}
