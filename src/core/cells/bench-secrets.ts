import type { CellContext } from '../exec/cell';
import { SpecValidationError } from '../util/errors';
import { registerSecretValue } from '../util/redact';
import { isUrlTarget } from '../exec/targets';

/** `${secret:NAME}` in a header value: read through the host (SecretStorage, MOEBENCH_SECRET_NAME), never written in the notebook */
const SECRET_REF = /\$\{secret:([A-Za-z0-9_.-]+)\}/g;

/**
 * Where a bench cell's headers go: the URL's origin (scheme, host, port), or the deployment it
 * names. A secret is sent only to destinations the user approved for it.
 */
export function secretDestination(target: string): string {
  if (isUrlTarget(target)) {
    try {
      const u = new URL(target);
      return `${u.protocol}//${u.host}`;
    } catch {
      return target;
    }
  }
  return `deployment ${target}`;
}

/**
 * A bench spec with every `${secret:NAME}` in its header values replaced by the secret. The
 * notebook keeps only the reference; run stores keep header names only (util/redact.ts).
 *
 * A notebook chooses both the header and the target, so a secret is bound to destinations: the
 * first time NAME would go to a destination the user is asked (outside the notebook, remembered
 * by the host: VS Code per workspace, the CLI through `--allow-secret NAME@ORIGIN`), and the
 * prompt for the value says where it will be sent. Every resolved value is registered for
 * redaction, so it is kept out of files and outputs whatever the header's name.
 */
export async function resolveSecretHeaders<S extends { headers?: Record<string, string>; target?: string }>(spec: S, ctx: Pick<CellContext, 'host' | 'cell'>): Promise<S> {
  if (!spec.headers) return spec;
  const destination = secretDestination(spec.target ?? '');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec.headers)) {
    let resolved = '';
    let last = 0;
    for (const m of value.matchAll(SECRET_REF)) {
      const key = m[1];
      const approved = (await ctx.host.consent?.(`secret:${key}@${destination}`, `Send the secret "${key}" to ${destination}?`, `The notebook puts it in the ${name} header of requests to ${destination}. Allow only destinations you trust with this secret.`)) ?? false;
      if (!approved) {
        throw new SpecValidationError(
          `The secret "${key}" is not approved for ${destination}`,
          { cell: ctx.cell.name, field: `headers.${name}` },
          `Allow it when asked (VS Code), or run \`moebench run --allow-secret ${key}@${destination.replace(/^deployment /, '')}\`. A notebook cannot approve destinations itself.`,
        );
      }
      const secret = await ctx.host.getSecret(key, `Value of secret "${key}" (sent in the ${name} header to ${destination})`);
      if (secret === undefined) {
        throw new SpecValidationError(
          `The ${name} header needs the secret "${key}", which is not set`,
          { cell: ctx.cell.name, field: `headers.${name}` },
          `Store it when asked, or set the environment variable MOEBENCH_SECRET_${key.toUpperCase().replace(/[^A-Z0-9]/g, '_')} for headless runs.`,
        );
      }
      registerSecretValue(secret);
      resolved += value.slice(last, m.index) + secret;
      last = (m.index ?? 0) + m[0].length;
    }
    headers[name] = resolved + value.slice(last);
  }
  return { ...spec, headers };
}
