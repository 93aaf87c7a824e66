import type { CellContext } from './types';
import { SpecValidationError } from '../util/errors';

/** `${secret:NAME}` in a header value: read through the host (SecretStorage, MOEBENCH_SECRET_NAME), never written in the notebook */
const SECRET_REF = /\$\{secret:([A-Za-z0-9_.-]+)\}/g;

/**
 * A bench spec with every `${secret:NAME}` in its header values replaced by the secret. The
 * notebook keeps only the reference; run stores keep header names only (util/redact.ts).
 */
export async function resolveSecretHeaders<S extends { headers?: Record<string, string> }>(spec: S, ctx: Pick<CellContext, 'host' | 'cell'>): Promise<S> {
  if (!spec.headers) return spec;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec.headers)) {
    let resolved = '';
    let last = 0;
    for (const m of value.matchAll(SECRET_REF)) {
      const key = m[1];
      const secret = await ctx.host.getSecret(key, `Value of secret "${key}" for the ${name} header`);
      if (secret === undefined) {
        throw new SpecValidationError(
          `The ${name} header needs the secret "${key}", which is not set`,
          { cell: ctx.cell.name, field: `headers.${name}` },
          `Store it when asked, or set the environment variable MOEBENCH_SECRET_${key.toUpperCase().replace(/[^A-Z0-9]/g, '_')} for headless runs.`,
        );
      }
      resolved += value.slice(last, m.index) + secret;
      last = (m.index ?? 0) + m[0].length;
    }
    headers[name] = resolved + value.slice(last);
  }
  return { ...spec, headers };
}
