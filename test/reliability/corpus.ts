/**
 * A generated corpus of hostile strings for the reliability suite: shell metacharacters, quotes,
 * command substitution, redirections, newlines, NUL and other control bytes, very long values and
 * Unicode tricks (RTL override, homoglyphs, fullwidth quotes, zero-width characters, lone
 * surrogates). Deterministic: the same `canary` gives the same strings, in the same order.
 *
 * Every payload that a shell would act on creates `canary` (`touch`, `>`, `tee`...), so one
 * interpreted string anywhere leaves a file behind; the other half of the check is that each
 * accepted string arrives byte for byte.
 */
import { Rng } from '../../src/core/sim/rng';

/** payloads that create `c` when any shell evaluates them */
function payloads(c: string): string[] {
  return [
    `$(touch ${c})`,
    `\`touch ${c}\``,
    `;touch ${c}`,
    `; touch ${c};`,
    `|touch ${c}`,
    `||touch ${c}`,
    `&&touch ${c}`,
    `&touch ${c}&`,
    `\ntouch ${c}\n`,
    `\r\ntouch ${c}\r\n`,
    `>${c}`,
    `>>${c}`,
    `2>${c}`,
    `&>${c}`,
    `| tee ${c}`,
    `<(touch ${c})`,
    `>(touch ${c})`,
    `$(<${c})$(touch ${c})`,
    `\${IFS}touch\${IFS}${c}`,
    `{touch,${c}}`,
    `'$(touch ${c})'`,
    `"$(touch ${c})"`,
    `'; touch ${c}; '`,
    `"; touch ${c}; "`,
    `'\\''; touch ${c}; '\\''`,
    `$'\\x27'; touch ${c}`,
    `\\'; touch ${c}`,
    `\\"; touch ${c}`,
    `x\\\ntouch ${c}`,
    `$((1))$(touch ${c})`,
    `\${x:-$(touch ${c})}`,
    `\${x?$(touch ${c})}`,
    `!!; touch ${c}`,
    `*; touch ${c}`,
    `~root; touch ${c}`,
    `#\ntouch ${c}`,
    `a=b touch ${c}`,
    `eval 'touch ${c}'`,
    `exec touch ${c}`,
    `bash -c 'touch ${c}'`,
    `python3 -c "open('${c}','w')"`,
    `%0atouch ${c}`,
    `\u0000touch ${c}`,
    `x\u0000; touch ${c}`,
    `--model-path=$(touch ${c})`,
    `-c touch ${c}`,
    `-- ; touch ${c}`,
    `@@moebench-pgid 1\ntouch ${c}`,
  ];
}

/** characters and tricks that confuse people, terminals or naive filters */
const UNICODE_TRICKS = [
  '\u202e', // RIGHT-TO-LEFT OVERRIDE
  '\u202d', // LEFT-TO-RIGHT OVERRIDE
  '\u2066', // LEFT-TO-RIGHT ISOLATE
  '\u2069', // POP DIRECTIONAL ISOLATE
  '\u200b', // ZERO WIDTH SPACE
  '\u200c', // ZERO WIDTH NON-JOINER
  '\u200d', // ZERO WIDTH JOINER
  '\u2060', // WORD JOINER
  '\ufeff', // BOM / ZERO WIDTH NO-BREAK SPACE
  '\u00a0', // NO-BREAK SPACE
  '\u2028', // LINE SEPARATOR
  '\u2029', // PARAGRAPH SEPARATOR
  '\u0085', // NEXT LINE
  '\uff07', // FULLWIDTH APOSTROPHE
  '\uff02', // FULLWIDTH QUOTATION MARK
  '\uff04', // FULLWIDTH DOLLAR SIGN
  '\uff1b', // FULLWIDTH SEMICOLON
  '\uff5c', // FULLWIDTH VERTICAL LINE
  '\u2018', // LEFT SINGLE QUOTATION MARK
  '\u2019', // RIGHT SINGLE QUOTATION MARK
  '\u201c', // LEFT DOUBLE QUOTATION MARK
  '\u201d', // RIGHT DOUBLE QUOTATION MARK
  '\u02bc', // MODIFIER LETTER APOSTROPHE
  '\u0430', // CYRILLIC SMALL LETTER A (homoglyph of a)
  '\u0435', // CYRILLIC SMALL LETTER IE (homoglyph of e)
  '\u043e', // CYRILLIC SMALL LETTER O (homoglyph of o)
  '\u0455', // CYRILLIC SMALL LETTER DZE (homoglyph of s)
  '\u2215', // DIVISION SLASH (homoglyph of /)
  '\u2044', // FRACTION SLASH
  '\uff0f', // FULLWIDTH SOLIDUS
  '\u0338', // COMBINING LONG SOLIDUS OVERLAY
  '\u0301', // COMBINING ACUTE ACCENT
  '\ud83d\ude00', // an astral-plane emoji (surrogate pair)
  '\ud800', // a lone high surrogate
  '\udfff', // a lone low surrogate
  '\u001b[31m', // ANSI escape
  '\u001b]0;title\u0007', // OSC terminal title
  '\u0007', // BEL
  '\u0008', // BACKSPACE
  '\u007f', // DEL
  '\u0001',
  '\u001f',
  '\t',
  '\v',
  '\f',
  '\r',
];

const METACHARS = [...'`$()[]{}<>|&;!*?~#\'"\\ \n\t%^=,:@+'];

/** the project's seeded generator (mulberry32, as the emulator uses): same seed, same corpus */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

export interface CorpusOptions {
  /** absolute path that any interpreted payload creates */
  canary: string;
  /** at least this many strings (default 10,000) */
  size?: number;
  seed?: number;
  /** longest string generated (default 100,000 characters) */
  maxLength?: number;
}

/** The corpus: unique strings, the systematic ones first, then seeded random mixes. */
export function hostileCorpus(options: CorpusOptions): string[] {
  const size = options.size ?? 10_000;
  const maxLength = options.maxLength ?? 100_000;
  const next = rng(options.seed ?? 0x5eed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const out = new Set<string>();
  const add = (s: string): void => {
    if (s.length > 0) out.add(s);
  };
  const base = payloads(options.canary);
  const prefixes = ['', 'model', '/models/x', '--flag', '-', "'", '"', '\\', '$', ' ', '\n', 'a b'];
  const suffixes = ['', "'", '"', '\\', ' ', '\n', '#', '&', ';', '$'];
  // systematic: every payload with every wrapper, and with every Unicode trick in front and behind
  for (const p of base) for (const pre of prefixes) for (const suf of suffixes) add(pre + p + suf);
  for (const p of base) for (const u of UNICODE_TRICKS) {
    add(u + p);
    add(p + u);
    add(`model${u}${p}`);
  }
  // single characters and pairs of metacharacters and tricks
  for (const m of METACHARS) for (const n of [...METACHARS, ...UNICODE_TRICKS]) add(m + n);
  for (let code = 1; code < 0x20; code++) add(`a${String.fromCharCode(code)}b`);
  // very long: repeated metacharacters and payloads
  for (const len of [1_000, 4_096, 16_384, 65_000, maxLength]) {
    if (len > maxLength) continue;
    add("'".repeat(len));
    add(base[len % base.length].repeat(Math.ceil(len / base[0].length)).slice(0, len));
    add(`${'a'.repeat(len - 40)}$(touch ${options.canary})`);
  }
  // seeded random mixes until the corpus is big enough
  const parts = [...base, ...UNICODE_TRICKS, ...METACHARS, 'x', '/models/DeepSeek-V3', '--tp', '8', '=', 'ﬁle'];
  while (out.size < size) {
    const n = 1 + Math.floor(next() * 6);
    let s = '';
    for (let i = 0; i < n; i++) s += pick(parts);
    add(s);
  }
  return [...out];
}

/** Strings a value must not contain to be carried as one argv element (the kernel's rules). */
export function carriableAsArgument(s: string): boolean {
  return !s.includes('\0') && Buffer.byteLength(s) < 128 * 1024;
}
