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
  type StopOutcome,
} from './process';
export { followRemoteLog, type FollowOptions, type FollowResult } from './log-follow';
