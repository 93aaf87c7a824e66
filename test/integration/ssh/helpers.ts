import type { HostServices } from '../../../src/core/host';
import { createSshCluster, type SshCluster, type SshClusterSpec, type SshClusterOptions } from '../../../src/core/launch/ssh/ssh-cluster';
import type { Lab } from '../../lab/lab';

/** A host that answers questions like the CLI would, and records what it was asked. */
export function recordingHost(answers: { acceptNewHostKeys?: boolean; secrets?: Record<string, string> } = {}): HostServices & { questions: string[]; secretRequests: string[] } {
  const questions: string[] = [];
  const secretRequests: string[] = [];
  return {
    questions,
    secretRequests,
    confirm: async (question, detail) => {
      questions.push(`${question} ${detail ?? ''}`);
      return answers.acceptNewHostKeys ?? false;
    },
    getSecret: async (key) => {
      secretRequests.push(key);
      return answers.secrets?.[key];
    },
    setting: <T>(_key: string, fallback: T): T => fallback,
  };
}

/** A cluster over the lab's ssh_config, with no agent and no default keys unless asked. */
export function labCluster(lab: Lab, nodes: SshClusterSpec['nodes'], host: HostServices = recordingHost(), extra: Partial<SshClusterSpec> = {}, options: SshClusterOptions = {}): Promise<SshCluster> {
  return createSshCluster({ name: 'lab', gpusPerNode: 0, nodes, sshConfigPath: lab.sshConfigPath, ...extra }, host, { agentSocket: null, homeDir: lab.clientHome, ...options });
}
