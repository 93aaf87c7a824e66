import { CommandFailedError, type ErrorLocation } from '../util/errors';

/**
 * A deployment did not come up: a rank exited during startup, a server never became healthy, or
 * the one-token check failed. Carries the failing process and its log tail so the cell (and the
 * CLI) can show what the server said; every other process has been stopped by then.
 */
export class DeploymentFailedError extends CommandFailedError {
  constructor(
    message: string,
    where: ErrorLocation,
    hint: string | undefined,
    readonly detail: { processId?: string; exitCode?: number; logTail?: string } = {},
  ) {
    super(message, where, hint);
  }
}
