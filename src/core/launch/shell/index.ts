export {
  DEFAULT_BASE_DIR,
  parseRemoteProcess,
  remoteProcessStateSchema,
  remoteProcessStatus,
  serializeRemoteProcess,
  startRemoteProcess,
  stopRemoteProcess,
  type RemoteProcessState,
  type RemoteProcessStatus,
  type StartOptions,
} from './process';
export { followRemoteLog } from './log-follow';
export { ShellLauncher } from './launcher';
export type { FollowOptions, FollowResult, StopOutcome } from '../types';
