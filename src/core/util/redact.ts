/**
 * Request headers carry credentials (Authorization, API keys, cookies). Run stores, reports and
 * logs keep a header's name but not its value, except for the few headers that never hold one.
 */
export const REDACTED = '<redacted>';

/** headers whose values are kept: they describe the request, they never authenticate it */
export const KEPT_HEADER_VALUES: ReadonlySet<string> = new Set(['accept', 'content-type', 'user-agent', 'x-request-id']);

/**
 * Values that came from the secret store in this process. A header keeps its value only when
 * its name is on the kept list AND the value holds no secret: a notebook can put a secret in
 * User-Agent as easily as in Authorization.
 */
const secretValues = new Set<string>();

export function registerSecretValue(value: string): void {
  // one or two characters would redact half of every file; such a "secret" protects nothing anyway
  if (value.length >= 4) secretValues.add(value);
}

export function carriesSecret(text: string): boolean {
  for (const s of secretValues) if (text.includes(s)) return true;
  return false;
}

/** `text` with every registered secret value replaced by <redacted> (logs, error messages, outputs) */
export function redactSecretValues(text: string): string {
  let out = text;
  for (const s of secretValues) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** a JSON value with registered secrets replaced in every string (keys included) */
export function redactSecretsDeep<T>(value: T): T {
  if (secretValues.size === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactSecretValues(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [redactSecretValues(k), walk(x)]));
    return v;
  };
  return walk(value) as T;
}

export function redactHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, KEPT_HEADER_VALUES.has(k.toLowerCase()) && !carriesSecret(v) ? v : REDACTED]));
}

/** a spec or config object with its `headers` map redacted (other keys untouched) */
export function redactSpecHeaders(spec: unknown): unknown {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return spec;
  const o = spec as Record<string, unknown>;
  const h = o['headers'];
  if (!h || typeof h !== 'object' || Array.isArray(h)) return spec;
  const strings = Object.fromEntries(Object.entries(h as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  return { ...o, headers: redactHeaders(strings) };
}

/** CLI argv with the values of `--header K=V` / `--header=K=V` redacted */
export function redactHeaderArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--header' && i + 1 < argv.length) {
      out.push(a, redactKeyValue(argv[++i]));
    } else if (a.startsWith('--header=')) {
      out.push(`--header=${redactKeyValue(a.slice('--header='.length))}`);
    } else {
      out.push(a);
    }
  }
  return out;
}

function redactKeyValue(kv: string): string {
  const eq = kv.indexOf('=');
  if (eq <= 0) return REDACTED;
  const name = kv.slice(0, eq);
  return KEPT_HEADER_VALUES.has(name.toLowerCase()) ? kv : `${name}=${REDACTED}`;
}
