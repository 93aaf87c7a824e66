import type { Launcher } from '../../src/core/launch/types';

/** For fake clusters of tests that never start a rank: any use is a test bug, said loudly. */
const refuse = (): never => {
  throw new Error('this test cluster launches nothing');
};
export const noLauncher: Launcher = {
  kind: 'none',
  start: refuse,
  status: refuse,
  stop: refuse,
  signal: refuse,
  tail: refuse,
  logSize: refuse,
  follow: refuse,
  processIds: refuse,
  parseState: refuse,
};
