/**
 * Python's json.dumps writes float('inf') as `Infinity` and float('nan') as `NaN` (bench_serving's
 * request_rate defaults to inf; an all-failed run has NaN latencies). Strict JSON.parse rejects
 * both, so bare tokens outside strings are rewritten first: Infinity -> 1e999 (parses back to
 * Infinity), NaN -> null. Text inside strings is never touched.
 */
export function parsePythonJson(text: string): unknown {
  return JSON.parse(rewriteNonFinite(text));
}

export function rewriteNonFinite(text: string): string {
  if (!/NaN|Infinity/.test(text)) return text;
  let out = '';
  let i = 0;
  let inString = false;
  let last = 0;
  while (i < text.length) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i += 2;
      else {
        if (c === '"') inString = false;
        i++;
      }
      continue;
    }
    if (c === '"') {
      inString = true;
      i++;
      continue;
    }
    const rest = text.startsWith('NaN', i) ? 'NaN' : text.startsWith('-Infinity', i) ? '-Infinity' : text.startsWith('Infinity', i) ? 'Infinity' : undefined;
    if (rest) {
      out += text.slice(last, i) + (rest === 'NaN' ? 'null' : rest === 'Infinity' ? '1e999' : '-1e999');
      i += rest.length;
      last = i;
      continue;
    }
    i++;
  }
  return out + text.slice(last);
}
