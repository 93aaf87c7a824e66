import { PyParser, PySyntaxError, logicalLines, tokenize, type PyExpr, type PyToken } from './python-lite';

/**
 * Reads argparse declarations out of Python source without running it. Three layouts are known
 * (see README "Refreshing the flag catalog" and shared reference sglang-args-source.md):
 * - L1: `add_cli_args` with `parser.add_argument(...)` calls; defaults read from the dataclass
 *   fields (`default=ServerArgs.x`). SGLang up to mid 2026, the router's `RouterArgs`, vLLM's
 *   `EngineArgs.add_cli_args` spellings.
 * - L2: dataclass fields annotated `name: A[T, "help" | Arg(...)] = default`; the flag is
 *   `--name-with-dashes` plus `Arg.aliases`; deprecated and dynamic-choice flags stay manual (L1).
 * - L3: the same annotated fields split over `arg_groups/fields/*.py` (msgspec structs), ordered
 *   by `arg_groups/field_order.py`, choices imported from `arg_groups/choices.py`.
 */
export interface ExtractedFlag {
  /** main spelling first, then aliases */
  flags: string[];
  dest: string;
  /** catalog type vocabulary: flag, int, float, str, list[int], JSON string, ... */
  type: string;
  default: string;
  choices?: string[];
  /** choices computed at run time (plugin registries): not checkable statically */
  dynamicChoices?: boolean;
  help: string;
  deprecated: boolean;
  /** a deprecated flag's successor when the source names it (`new_flag=`) */
  replacement?: string;
  /** L3: the namespace struct the field lives in */
  namespace?: string;
  /** arg_groups/*_hook.py modules that assign the field while SGLang resolves its arguments */
  rewrittenBy?: string[];
  /** file and line the declaration came from */
  origin: string;
}

export type SourceLayout = 'L1' | 'L2' | 'L3';

/** A set of source files keyed by repository-relative path. */
export type SourceFiles = ReadonlyMap<string, string>;

export class CatalogSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogSourceError';
  }
}

interface Module {
  file: string;
  src: string;
  tokens: PyToken[];
  lines: ReturnType<typeof logicalLines>;
}

function parseModule(file: string, src: string): Module {
  const tokens = tokenize(src, file);
  return { file, src, tokens, lines: logicalLines(tokens) };
}

/** name -> expression, from module-level `NAME = expr` / `NAME: T = expr` and class-level fields */
type Symbols = Map<string, { expr: PyExpr; mod: Module }>;

function exprAt(mod: Module, tokenIndex: number): { expr: PyExpr; next: number } {
  const p = new PyParser(mod.tokens, mod.src, mod.file);
  p.pos = tokenIndex;
  const expr = p.expr();
  return { expr, next: p.pos };
}

function collectConstants(mod: Module, into: Symbols): void {
  for (const l of mod.lines) {
    if (l.indent !== 0) continue;
    const t = mod.tokens;
    if (t[l.start].kind !== 'name') continue;
    let i = l.start + 1;
    if (t[i]?.kind === 'op' && t[i].text === ':') {
      try {
        i = exprAt(mod, i + 1).next;
      } catch {
        continue;
      }
    }
    if (!(t[i]?.kind === 'op' && t[i].text === '=') || i >= l.end) continue;
    try {
      into.set(t[l.start].text, { expr: exprAt(mod, i + 1).expr, mod });
    } catch {
      // a statement we do not model (e.g. a chained assignment); its name stays unresolved
    }
  }
}

interface ClassField {
  name: string;
  annotation: PyExpr;
  default?: PyExpr;
  line: number;
}

interface ClassBody {
  name: string;
  indent: number;
  lines: Module['lines'];
  headerIndex: number;
}

function findClasses(mod: Module): ClassBody[] {
  const out: ClassBody[] = [];
  mod.lines.forEach((l, idx) => {
    const t = mod.tokens[l.start];
    if (t.kind !== 'name' || t.text !== 'class') return;
    const name = mod.tokens[l.start + 1].text;
    const body: Module['lines'] = [];
    for (let j = idx + 1; j < mod.lines.length && mod.lines[j].indent > l.indent; j++) body.push(mod.lines[j]);
    out.push({ name, indent: l.indent, lines: body, headerIndex: idx });
  });
  return out;
}

function classFields(mod: Module, cls: ClassBody): ClassField[] {
  const bodyIndent = cls.lines[0]?.indent;
  const fields: ClassField[] = [];
  for (const l of cls.lines) {
    if (l.indent !== bodyIndent) continue;
    const t = mod.tokens;
    if (t[l.start].kind !== 'name' || !(t[l.start + 1]?.kind === 'op' && t[l.start + 1].text === ':')) continue;
    if (['def', 'class', 'if', 'for', 'while', 'with', 'try', 'else', 'elif', 'except', 'finally', 'async', 'return'].includes(t[l.start].text)) continue;
    try {
      const ann = exprAt(mod, l.start + 2);
      let def: PyExpr | undefined;
      if (t[ann.next]?.kind === 'op' && t[ann.next].text === '=') def = exprAt(mod, ann.next + 1).expr;
      fields.push({ name: t[l.start].text, annotation: ann.expr, default: def, line: l.line });
    } catch (e) {
      if (e instanceof PySyntaxError) throw new CatalogSourceError(`${mod.file}:${l.line}: cannot read the field ${t[l.start].text}: ${e.message}`);
      throw e;
    }
  }
  return fields;
}

/** every `<x>.add_argument(...)` call inside `def <fn>` of class `cls` */
function addArgumentCalls(mod: Module, cls: ClassBody, fn: string): PyExpr[] {
  const calls: PyExpr[] = [];
  const def = cls.lines.find((l) => mod.tokens[l.start].text === 'def' && mod.tokens[l.start + 1].text === fn);
  if (!def) return calls;
  const last = cls.lines.find((l) => l.start > def.start && l.indent <= def.indent);
  const endToken = last ? last.start : cls.lines[cls.lines.length - 1].end;
  for (let i = def.end; i < endToken; i++) {
    const t = mod.tokens[i];
    if (t.kind === 'name' && t.text === 'add_argument' && mod.tokens[i - 1]?.text === '.' && mod.tokens[i + 1]?.text === '(') {
      // back up to the receiver name so the call parses whole
      let start = i - 2;
      while (start > 0 && mod.tokens[start - 1]?.text === '.') start -= 2;
      try {
        calls.push(exprAt(mod, start).expr);
      } catch (e) {
        if (e instanceof PySyntaxError) throw new CatalogSourceError(`${mod.file}:${t.line}: cannot read this add_argument call: ${e.message}`);
        throw e;
      }
    }
  }
  return calls;
}

type PyValue = string | number | boolean | null | PyValue[] | { dict: string };

interface Env {
  symbols: Symbols;
  /** class name -> field name -> default expression (for `default=ServerArgs.x`) */
  classDefaults: Map<string, Map<string, PyExpr | undefined>>;
  /** f-string placeholders with known values (the router's `{prefix}` is "") */
  fstringValues: Record<string, string>;
}

function evaluate(e: PyExpr | undefined, env: Env, depth = 0): PyValue | undefined {
  if (!e || depth > 12) return undefined;
  switch (e.kind) {
    case 'str':
      return e.fstring ? e.value.replace(/\{([A-Za-z_][\w.]*)\}/g, (m, name: string) => env.fstringValues[name] ?? m) : e.value;
    case 'num':
      return e.value;
    case 'name':
      if (e.name === 'True') return true;
      if (e.name === 'False') return false;
      if (e.name === 'None') return null;
      return evaluate(env.symbols.get(e.name)?.expr, env, depth + 1);
    case 'attr': {
      if (e.object.kind === 'name') {
        const fields = env.classDefaults.get(e.object.name);
        if (fields?.has(e.attr)) {
          const field = fields.get(e.attr);
          // a field without a default is None to argparse until resolved
          return field === undefined ? null : evaluate(field, env, depth + 1);
        }
      }
      // argparse.SUPPRESS as a default: the attribute is not set, which reads as None
      if (e.attr === 'SUPPRESS') return null;
      return undefined;
    }
    case 'list': {
      const items = e.items.map((x) => evaluate(x, env, depth + 1));
      return items.every((x) => x !== undefined) ? (items as PyValue[]) : undefined;
    }
    case 'dict':
      return { dict: e.raw.replace(/\s+/g, ' ') };
    case 'subscript': {
      const base = evaluate(e.object, env, depth + 1);
      const index = e.items.length === 1 ? evaluate(e.items[0], env, depth + 1) : undefined;
      if (Array.isArray(base) && typeof index === 'number') return base[index < 0 ? base.length + index : index];
      return undefined;
    }
    case 'unary': {
      const v = evaluate(e.operand, env, depth + 1);
      if (e.op === '-' && typeof v === 'number') return -v;
      return undefined;
    }
    case 'binop': {
      const l = evaluate(e.left, env, depth + 1);
      const r = evaluate(e.right, env, depth + 1);
      if (e.op === '+' && Array.isArray(l) && Array.isArray(r)) return [...l, ...r];
      if (e.op === '+' && typeof l === 'string' && typeof r === 'string') return l + r;
      if (typeof l === 'number' && typeof r === 'number') {
        if (e.op === '+') return l + r;
        if (e.op === '-') return l - r;
        if (e.op === '*') return l * r;
        if (e.op === '**') return l ** r;
        if (e.op === '/') return l / r;
        if (e.op === '//') return Math.floor(l / r);
      }
      return undefined;
    }
    case 'call': {
      const fn = calleeName(e.func);
      if (['list', 'tuple', 'sorted', 'set', 'frozenset'].includes(fn) && e.args.length === 1) return evaluate(e.args[0], env, depth + 1);
      if (['list', 'tuple', 'set', 'dict'].includes(fn) && e.args.length === 0) return fn === 'dict' ? { dict: '{}' } : [];
      if (fn.endsWith('field') || fn === 'Field') {
        const factory = e.kwargs.find((k) => k.name === 'default_factory')?.value;
        if (factory) {
          const f = factory.kind === 'name' ? factory.name : factory.raw;
          if (f === 'list' || f === 'tuple' || f === 'set') return [];
          if (f === 'dict') return { dict: '{}' };
          // a nested config object built with its own defaults
          if (factory.kind === 'name' && /^[A-Z]/.test(f)) return { dict: `${f}()` };
          if (factory.kind === 'other' && /^lambda\s*:/.test(factory.raw)) {
            const body = factory.raw.replace(/^lambda\s*:/, '');
            try {
              return evaluate(new PyParser(tokenize(body), body).expr(), env, depth + 1);
            } catch {
              return undefined;
            }
          }
          return undefined;
        }
        const d = e.kwargs.find((k) => k.name === 'default')?.value;
        return d ? evaluate(d, env, depth + 1) : undefined;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function calleeName(e: PyExpr): string {
  if (e.kind === 'name') return e.name;
  if (e.kind === 'attr') return e.attr;
  return e.raw;
}

function formatValue(v: PyValue): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : String(v);
  if (typeof v === 'string') return v === '' ? '""' : v;
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'string' ? `'${x}'` : formatValue(x))).join(', ')}]`;
  return v.dict;
}

function defaultText(e: PyExpr | undefined, env: Env): string {
  if (!e) return '(required)';
  const v = evaluate(e, env);
  if (v !== undefined) return formatValue(v);
  // unresolved: keep the expression (normalised whitespace) so a reader can look it up
  return `(${e.raw.replace(/\s+/g, ' ').slice(0, 80)})`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** first sentence of the help, tabs and newlines removed (the catalog is a TSV) */
export function helpSummary(text: string): string {
  const t = oneLine(text);
  const m = /^(.{20,}?[.!?])(\s|$)/.exec(t);
  const s = m ? m[1] : t;
  return s.length > 220 ? `${s.slice(0, 217)}...` : s;
}

const TYPE_PARSERS: Record<string, string> = {
  str: 'str',
  int: 'int',
  float: 'float',
  json_list_type: 'JSON list string',
  'json.loads': 'JSON string',
  loads: 'JSON string',
  human_readable_int: 'int (k/M/G or Ki/Mi/Gi suffix ok)',
  nullable_str: 'str (or None)',
};

function typeParserName(e: PyExpr | undefined): string | undefined {
  if (!e) return undefined;
  if (e.kind === 'name') return TYPE_PARSERS[e.name] ?? 'str';
  if (e.kind === 'attr') return TYPE_PARSERS[`${e.object.raw}.${e.attr}`] ?? TYPE_PARSERS[e.attr] ?? 'str';
  return 'str';
}

function choicesOf(e: PyExpr | undefined, env: Env): { choices?: string[]; dynamic?: boolean } {
  if (!e) return {};
  const v = evaluate(e, env);
  if (Array.isArray(v)) return { choices: v.map((x) => (typeof x === 'string' ? x : formatValue(x))) };
  return { dynamic: true };
}

function kw(call: Extract<PyExpr, { kind: 'call' }>, name: string): PyExpr | undefined {
  return call.kwargs.find((k) => k.name === name)?.value;
}

function strValue(e: PyExpr | undefined, env: Env): string | undefined {
  const v = evaluate(e, env);
  return typeof v === 'string' ? v : undefined;
}

/** one `add_argument(...)` call -> a flag row (L1 rules) */
function fromAddArgument(call: Extract<PyExpr, { kind: 'call' }>, mod: Module, env: Env, ownerClass: string): ExtractedFlag | undefined {
  const flags = call.args.map((a) => strValue(a, env)).filter((s): s is string => typeof s === 'string' && s.startsWith('-'));
  if (flags.length === 0) return undefined;
  const actionExpr = kw(call, 'action');
  const action = actionExpr ? (actionExpr.kind === 'str' ? actionExpr.value : calleeName(actionExpr)) : undefined;
  const typeExpr = kw(call, 'type');
  const nargsExpr = kw(call, 'nargs');
  const nargs = nargsExpr ? evaluate(nargsExpr, env) : undefined;
  const destExpr = kw(call, 'dest');
  const primaryLong = flags.find((f) => f.startsWith('--')) ?? flags[0];
  const dest = strValue(destExpr, env) ?? primaryLong.replace(/^-+/, '').replace(/-/g, '_');
  const deprecated = /^Deprecated/.test(action ?? '') || /^\s*\(?\[?deprecated\b/i.test(strValue(kw(call, 'help'), env) ?? '');
  let type: string;
  if (action === 'store_true' || action === 'store_false' || action === 'store_const' || action === 'count') type = 'flag';
  else if (action === 'BooleanOptionalAction') type = 'flag (--no-… form negates)';
  else if (action && /^Deprecated(StoreTrue|StoreConst|)Action$/.test(action) && nargs === undefined) type = 'flag';
  else {
    const base = typeParserName(typeExpr) ?? 'str';
    if (nargs === '+' || nargs === '*' || typeof nargs === 'number') type = `list[${base}]`;
    else if (nargs === '?') type = `${base} (value optional)`;
    else type = base;
  }
  const defaultExpr = kw(call, 'default');
  let def: string;
  if (defaultExpr) def = defaultText(defaultExpr, env);
  else if (type === 'flag') def = action === 'store_false' ? 'True' : 'False';
  else if (evaluate(kw(call, 'required'), env) === true) def = '(required)';
  else {
    // argparse's default is None; the dataclass field says what the program then uses
    const field = env.classDefaults.get(ownerClass)?.get(dest);
    def = field ? defaultText(field, env) : 'None';
  }
  const helpExpr = kw(call, 'help');
  const helpRaw = helpExpr && helpExpr.kind === 'attr' && helpExpr.attr === 'SUPPRESS' ? '(hidden)' : (strValue(helpExpr, env) ?? (helpExpr ? helpExpr.raw : ''));
  const { choices, dynamic } = choicesOf(kw(call, 'choices'), env);
  const replacement = strValue(kw(call, 'new_flag'), env);
  return { flags: uniq(flags), dest, type, default: def, choices, dynamicChoices: dynamic, help: helpSummary(helpRaw), deprecated, replacement, origin: `${mod.file}:${call.line}` };
}

function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

function unwrapOptional(t: PyExpr): PyExpr {
  if (t.kind === 'subscript' && calleeName(t.object) === 'Optional' && t.items.length === 1) return t.items[0];
  if (t.kind === 'subscript' && calleeName(t.object) === 'Union') {
    const rest = t.items.filter((x) => !(x.kind === 'name' && x.name === 'None'));
    if (rest.length === 1) return rest[0];
  }
  if (t.kind === 'binop' && t.op === '|') {
    if (t.right.kind === 'name' && t.right.name === 'None') return unwrapOptional(t.left);
    if (t.left.kind === 'name' && t.left.name === 'None') return unwrapOptional(t.right);
  }
  if (t.kind === 'str') return t;
  return t;
}

function scalarName(t: PyExpr): string {
  const n = t.kind === 'name' ? t.name : t.kind === 'str' ? t.value : t.raw;
  return n === 'int' || n === 'float' || n === 'str' || n === 'bool' ? n : 'str';
}

/** `name: A[T, "help" | Arg(...)] = default` -> a flag row (L2/L3 rules of add_cli_args_from_dataclass) */
function fromAnnotatedField(f: ClassField, mod: Module, env: Env, namespace?: string): ExtractedFlag | undefined | 'skip' {
  const ann = f.annotation;
  if (ann.kind !== 'subscript' || !['A', 'Annotated'].includes(calleeName(ann.object))) return undefined;
  const [typeExpr, ...meta] = ann.items;
  const helpMeta = meta.find((m) => m.kind === 'str');
  const argMeta = meta.find((m): m is Extract<PyExpr, { kind: 'call' }> => m.kind === 'call' && calleeName(m.func) === 'Arg');
  if (!helpMeta && !argMeta) return 'skip';
  const arg = (name: string) => (argMeta ? kw(argMeta, name) : undefined);
  if (evaluate(arg('no_cli'), env) === true) return 'skip';
  const cliName = strValue(arg('cli_name'), env) ?? `--${f.name.replace(/_/g, '-')}`;
  const aliasesValue = evaluate(arg('aliases'), env);
  const aliases = Array.isArray(aliasesValue) ? aliasesValue.filter((x): x is string => typeof x === 'string') : [];
  const helpText = helpMeta?.kind === 'str' ? helpMeta.value : (strValue(arg('help'), env) ?? '');
  const actionExpr = arg('action');
  const action = actionExpr ? (actionExpr.kind === 'str' ? actionExpr.value : calleeName(actionExpr)) : undefined;
  let t = unwrapOptional(typeExpr);
  let choices: string[] | undefined;
  let dynamic: boolean | undefined;
  if (arg('choices')) ({ choices, dynamic } = choicesOf(arg('choices'), env));
  let type: string;
  const nargs = evaluate(arg('nargs'), env);
  if (action) {
    type = action === 'store_true' || /StoreTrue|StoreConst/.test(action) ? 'flag' : action === 'BooleanOptionalAction' ? 'flag (--no-… form negates)' : 'str';
  } else {
    if (t.kind === 'subscript' && calleeName(t.object) === 'Literal') {
      const lit = t.items.map((x) => evaluate(x, env));
      if (!choices && lit.every((x) => x !== undefined)) choices = lit.map((x) => (typeof x === 'string' ? x : formatValue(x as PyValue)));
      t = t.items[0];
      type = typeof evaluate(t, env) === 'number' ? 'int' : 'str';
    } else if (t.kind === 'subscript' && ['List', 'list', 'Tuple', 'tuple', 'Sequence'].includes(calleeName(t.object)) && !arg('type_parser')) {
      const inner = unwrapOptional(t.items[0]);
      const innerType = inner.kind === 'subscript' && calleeName(inner.object) === 'Literal' ? 'str' : scalarName(inner);
      if (inner.kind === 'subscript' && calleeName(inner.object) === 'Literal' && !choices) {
        choices = inner.items.map((x) => evaluate(x, env)).filter((x): x is string => typeof x === 'string');
      }
      type = `list[${innerType}]`;
    } else if (scalarName(t) === 'bool' && (t.kind === 'name' || t.kind === 'str')) {
      type = 'flag';
    } else {
      type = arg('type_parser') ? (typeParserName(arg('type_parser')) ?? 'str') : scalarName(t);
    }
    if (nargs === '?') type = `${type} (value optional)`;
    else if ((nargs === '+' || nargs === '*') && !type.startsWith('list[')) type = `list[${type}]`;
  }
  const required = evaluate(arg('required'), env) === true;
  const def = required || !f.default ? '(required)' : defaultText(f.default, env);
  // Arg(resolvable=True): a None default is filled in while SGLang resolves the arguments
  const resolved = evaluate(arg('resolvable'), env) === true && def === 'None';
  return {
    flags: uniq([cliName, ...aliases]),
    dest: f.name,
    type,
    default: def,
    choices,
    dynamicChoices: dynamic,
    help: `${helpSummary(helpText)}${resolved ? ' (unset: chosen at start)' : ''}`,
    deprecated: /^\s*\(?\[?deprecated\b/i.test(helpText),
    namespace,
    origin: `${mod.file}:${f.line}`,
  };
}

export interface ExtractedCatalog {
  layout: SourceLayout;
  flags: ExtractedFlag[];
  /** files read, repository-relative */
  files: string[];
}

export const SGLANG_SERVER_ARGS_PATH = 'python/sglang/srt/server_args.py';
export const SGLANG_ARG_GROUPS_DIR = 'python/sglang/srt/arg_groups';
/** where the router's arguments lived, newest first */
export const SGLANG_ROUTER_ARGS_PATHS = [
  'sgl-model-gateway/bindings/python/src/sglang_router/router_args.py',
  'sgl-model-gateway/bindings/python/sglang_router/router_args.py',
  'sgl-router/bindings/python/sglang_router/router_args.py',
  'sgl-router/py_src/sglang_router/router_args.py',
  // before the router had its own args module (v0.4.x - v0.5.1)
  'sgl-router/py_src/sglang_router/launch_router.py',
];

function need(files: SourceFiles, path: string): string {
  const src = files.get(path);
  if (src === undefined) throw new CatalogSourceError(`${path} is missing: point the script at an SGLang checkout (the folder holding python/sglang)`);
  return src;
}

function wrapSyntax<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PySyntaxError) throw new CatalogSourceError(e.message);
    throw e;
  }
}

/** Detect the layout of an SGLang source set and extract every `launch_server` flag. */
export function extractSglangServerArgs(files: SourceFiles): ExtractedCatalog {
  return wrapSyntax(() => {
    const main = parseModule(SGLANG_SERVER_ARGS_PATH, need(files, SGLANG_SERVER_ARGS_PATH));
    const fieldFiles = [...files.keys()].filter((p) => p.startsWith(`${SGLANG_ARG_GROUPS_DIR}/fields/`) && p.endsWith('.py') && !p.endsWith('__init__.py')).sort();
    const layout: SourceLayout = main.src.includes('collect_input_fields(') || (fieldFiles.length > 0 && !/class ServerArgs[\s\S]*?:\s*A\[/.test(main.src)) ? 'L3' : /^\s+\w+\s*:\s*A\[/m.test(main.src) ? 'L2' : 'L1';
    const symbols: Symbols = new Map();
    const modules = [main];
    const choicesPath = `${SGLANG_ARG_GROUPS_DIR}/choices.py`;
    for (const p of [choicesPath, ...fieldFiles]) if (files.has(p)) modules.push(parseModule(p, files.get(p) ?? ''));
    // constants: the fields' own modules first, server_args.py last wins for shared names
    for (const m of [...modules.slice(1), main]) collectConstants(m, symbols);
    const serverArgs = findClasses(main).find((c) => c.name === 'ServerArgs');
    if (!serverArgs) throw new CatalogSourceError(`${SGLANG_SERVER_ARGS_PATH}: no class ServerArgs`);
    const ownFields = classFields(main, serverArgs);
    const classDefaults = new Map<string, Map<string, PyExpr | undefined>>();
    const defaults = new Map<string, PyExpr | undefined>(ownFields.map((f) => [f.name, f.default]));
    classDefaults.set('ServerArgs', defaults);
    const env: Env = { symbols, classDefaults, fstringValues: {} };
    const out: ExtractedFlag[] = [];
    if (layout === 'L2') {
      for (const f of ownFields) {
        const row = fromAnnotatedField(f, main, env);
        if (row && row !== 'skip') out.push(row);
      }
    }
    if (layout === 'L3') {
      const nsRows: ExtractedFlag[] = [];
      for (const m of modules.slice(1).filter((x) => x.file.includes('/fields/'))) {
        for (const cls of findClasses(m)) {
          const nsLine = cls.lines.find((l) => m.tokens[l.start].text === '_NS_PATH');
          const ns = nsLine ? strValue(exprAt(m, nsLine.start + (m.tokens[nsLine.start + 1].text === ':' ? 4 : 2)).expr, env) : undefined;
          for (const f of classFields(m, cls)) {
            defaults.set(f.name, f.default);
            const row = fromAnnotatedField(f, m, env, ns ?? cls.name);
            if (row && row !== 'skip') {
              if (nsRows.some((r) => r.dest === row.dest)) throw new CatalogSourceError(`${m.file}:${f.line}: field ${f.name} is declared in two namespaces`);
              nsRows.push(row);
            }
          }
        }
      }
      out.push(...orderByFieldOrder(nsRows, files, env));
    }
    for (const call of addArgumentCalls(main, serverArgs, 'add_cli_args')) {
      if (call.kind !== 'call') continue;
      const row = fromAddArgument(call, main, env, 'ServerArgs');
      if (!row) continue;
      const same = out.findIndex((r) => r.flags[0] === row.flags[0]);
      if (same >= 0) out[same] = row;
      else out.push(row);
    }
    if (out.length === 0) throw new CatalogSourceError(`${SGLANG_SERVER_ARGS_PATH}: found no flags (layout ${layout})`);
    const hooks = noteHooks(files, out);
    return { layout, flags: out, files: [SGLANG_SERVER_ARGS_PATH, ...modules.slice(1).map((m) => m.file), ...hooks] };
  });
}

/**
 * The *_hook.py modules validate and rewrite arguments after parsing (model- and mode-specific
 * defaults); they declare no flags. A static catalog can only say which fields each one writes
 * (`server_args.<field> = ...`), so the help of those flags names the hook.
 */
function noteHooks(files: SourceFiles, rows: ExtractedFlag[]): string[] {
  const hookPaths = [...files.keys()].filter((p) => p.startsWith(`${SGLANG_ARG_GROUPS_DIR}/`) && p.endsWith('_hook.py')).sort();
  for (const path of hookPaths) {
    const src = files.get(path) ?? '';
    const written = new Set([...src.matchAll(/\bserver_args\.(\w+)\s*=(?!=)/g)].map((m) => m[1]));
    const name = path.slice(path.lastIndexOf('/') + 1);
    for (const row of rows) {
      if (written.has(row.dest)) row.rewrittenBy = [...(row.rewrittenBy ?? []), name];
    }
  }
  for (const row of rows) if (row.rewrittenBy) row.help = `${row.help} (may be rewritten at start by ${row.rewrittenBy.join(', ')})`;
  return hookPaths;
}

function orderByFieldOrder(rows: ExtractedFlag[], files: SourceFiles, env: Env): ExtractedFlag[] {
  const orderPath = `${SGLANG_ARG_GROUPS_DIR}/field_order.py`;
  const src = files.get(orderPath);
  if (src === undefined) return rows;
  const mod = parseModule(orderPath, src);
  const symbols: Symbols = new Map();
  collectConstants(mod, symbols);
  const order = evaluate(symbols.get('POSITIONAL_FIELD_ORDER')?.expr, { ...env, symbols });
  if (!Array.isArray(order)) return rows;
  const rank = new Map(order.map((n, i) => [String(n), i]));
  const positional = rows.filter((r) => rank.has(r.dest)).sort((a, b) => (rank.get(a.dest) ?? 0) - (rank.get(b.dest) ?? 0));
  return [...positional, ...rows.filter((r) => !rank.has(r.dest))];
}

/** The router's (sglang_router / sgl-model-gateway) flags: L1 with an optional `router-` prefix, read with prefix "". */
export function extractRouterArgs(files: SourceFiles): ExtractedCatalog | undefined {
  const path = SGLANG_ROUTER_ARGS_PATHS.find((p) => files.has(p));
  if (!path) return undefined;
  return wrapSyntax(() => {
    const mod = parseModule(path, files.get(path) ?? '');
    const symbols: Symbols = new Map();
    collectConstants(mod, symbols);
    const cls = findClasses(mod).find((c) => c.name === 'RouterArgs');
    if (!cls) throw new CatalogSourceError(`${path}: no class RouterArgs`);
    const classDefaults = new Map([['RouterArgs', new Map(classFields(mod, cls).map((f) => [f.name, f.default] as const))]]);
    const env: Env = { symbols, classDefaults, fstringValues: { prefix: '' } };
    const flags: ExtractedFlag[] = [];
    for (const call of addArgumentCalls(mod, cls, 'add_cli_args')) {
      if (call.kind !== 'call') continue;
      const row = fromAddArgument(call, mod, env, 'RouterArgs');
      if (row && !flags.some((r) => r.flags[0] === row.flags[0])) flags.push(row);
    }
    return { layout: 'L1', flags, files: [path] };
  });
}

/** vLLM: `vllm serve` flags from EngineArgs / the OpenAI frontend, see vllm-extract.ts */
export { evaluate as evaluatePyExpr, parseModule, findClasses, classFields, addArgumentCalls, collectConstants, fromAddArgument, defaultText, type Env as PyEnv, type Module as PyModule, type Symbols as PySymbols };
