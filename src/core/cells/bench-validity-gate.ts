import type { ValidityCheck } from '../metrics/validity';
import { MoeBenchError } from '../util/errors';
import type { CellContext } from '../exec/cell';

/** A bench cell's validity checks reported an error (e.g. 66% of requests failed): the cell fails. */
export class BenchResultInvalidError extends MoeBenchError {}

/**
 * A bench cell whose validity checks report an error fails, so `moebench run` exits 1 and a CI
 * gate can trust a green run; `moebench bench` already exits 1 on the same check. The result is
 * drawn before this throws. `bench.allowInvalid` (VS Code setting, `moebench run --allow-invalid`)
 * keeps going. Cells with `faults:` are not gated (bench.ts): they fail requests on purpose.
 */
export function failOnInvalidResults(name: string, steps: readonly { label: string; validity: readonly ValidityCheck[] }[], ctx: CellContext): void {
  if (ctx.host.setting('bench.allowInvalid', false)) return;
  const errors = steps.flatMap((s) => s.validity.filter((c) => c.level === 'error').map((c) => (steps.length > 1 ? `${s.label}: ${c.text}` : c.text)));
  if (errors.length === 0) return;
  throw new BenchResultInvalidError(
    `Benchmark "${name}" is not a valid result: ${errors.join('; ')}`,
    { cell: name },
    'The result is drawn above with its badges. Fix the cause and run again, or allow invalid results (setting moebench.bench.allowInvalid, or `moebench run --allow-invalid`).',
  );
}
