/**
 * Engine versions as users write them ("0.5.15", "v0.4.6.post2", vLLM's "0.10.1.1", "latest"), ordered the way
 * the release history is: 0.4.10 < 0.4.10.post2 < 0.5.0. "latest" sorts after every release and
 * means "the newest code the catalog knows" (SGLang main at the catalog commit).
 */
export interface EngineVersion {
  readonly text: string;
  /** [major, minor, patch, post]; post is 0 without a .postN suffix */
  readonly parts: readonly [number, number, number, number];
  readonly latest: boolean;
}

// vLLM ships four-part patch releases ("0.10.1.1"); the fourth number sorts like SGLang's .postN
const VERSION_RE = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:\.?post(\d+)|\.(\d+))?$/;

export function isVersionText(text: string): boolean {
  return text === 'latest' || text === 'main' || VERSION_RE.test(text.trim());
}

export function parseVersion(text: string): EngineVersion {
  const t = text.trim();
  if (t === 'latest' || t === 'main') return { text: t, parts: [Infinity, 0, 0, 0], latest: true };
  const m = VERSION_RE.exec(t);
  if (!m) throw new Error(`not a version: ${JSON.stringify(text)}`);
  return { text: t.replace(/^v/, ''), parts: [Number(m[1]), Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? m[5] ?? 0)], latest: false };
}

export function compareVersions(a: EngineVersion | string, b: EngineVersion | string): number {
  const pa = (typeof a === 'string' ? parseVersion(a) : a).parts;
  const pb = (typeof b === 'string' ? parseVersion(b) : b).parts;
  for (let i = 0; i < 4; i++) {
    if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
  }
  return 0;
}

export function atLeast(v: EngineVersion, min: string): boolean {
  return compareVersions(v, min) >= 0;
}
