/** Things only the host (VS Code, CLI, tests) can do: ask the user, read secrets, settings. */
export interface HostServices {
  /** ask a yes/no question (unknown SSH host key...). The CLI answers from its flags. */
  confirm(question: string, detail?: string): Promise<boolean>;
  /** read a secret (passphrase, API key) from SecretStorage or the environment; never from the notebook */
  getSecret(key: string, prompt?: string): Promise<string | undefined>;
  /** forget a stored secret that turned out wrong (a bad passphrase), so the next use asks again */
  forgetSecret?(key: string): Promise<void>;
  /** a setting value (moebench.*), already typed by the caller */
  setting<T>(key: string, fallback: T): T;
  /**
   * The user's consent to something a notebook asks for (its own ssh_config or known_hosts),
   * remembered outside the notebook once per workspace under `id`. Without this method the answer is no.
   */
  consent?(id: string, question: string, detail: string): Promise<boolean>;
}

/** Default host for headless use and tests: refuses questions, reads secrets from the environment. */
export function headlessHost(options: { acceptNewHostKeys?: boolean; settings?: Record<string, unknown> } = {}): HostServices {
  return {
    confirm: async () => options.acceptNewHostKeys ?? false,
    getSecret: async (key) => process.env[`MOEBENCH_SECRET_${key.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`],
    setting: <T>(key: string, fallback: T): T => (options.settings && key in options.settings ? (options.settings[key] as T) : fallback),
    // headless: only what the command line granted (`moebench run --allow-notebook-ssh-files`)
    consent: async (id) => {
      const granted = options.settings?.['consents'];
      return Array.isArray(granted) && granted.some((g) => g === id || (typeof g === 'string' && g.endsWith(':*') && id.startsWith(g.slice(0, -1))));
    },
  };
}
