import type { DeploymentHandle } from './handles';
import type { Session } from './session';

/** A cell's `target:`: a server URL, or the name of a deployment a deploy cell registered. */
export type Target = { kind: 'url'; url: string } | { kind: 'deployment'; deployment: DeploymentHandle };

/** Is `target` a URL (http:// or https://) rather than a deployment name? The one place this is decided. */
export function isUrlTarget(target: string): boolean {
  return /^https?:\/\//i.test(target);
}

/**
 * The one resolution of a `target:` for bench, monitor and the runners: a URL as written (trailing
 * slashes dropped), else the deployment of that name in this session, failing with the cell named
 * when there is none.
 */
export function resolveTarget(session: Session, target: string, cell?: string): Target {
  if (isUrlTarget(target)) return { kind: 'url', url: target.replace(/\/+$/, '') };
  return { kind: 'deployment', deployment: session.deployments.get(target, cell) };
}

/** the deployment a target names, or undefined for a URL */
export function targetDeployment(session: Session, target: string, cell?: string): DeploymentHandle | undefined {
  const t = resolveTarget(session, target, cell);
  return t.kind === 'deployment' ? t.deployment : undefined;
}
