import { access, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { utils, type AnyAuthMethod, type AuthHandlerMiddleware } from 'ssh2';
import type { HostServices } from '../../host';
import { SshAuthError } from './ssh-errors';

/** OpenSSH's default identities when ssh_config names none (ssh_config(5) IdentityFile). */
const DEFAULT_IDENTITY_NAMES = ['id_rsa', 'id_ecdsa', 'id_ed25519'];

/** The secret key under which hosts keep a key file's passphrase (VS Code: SecretStorage). */
export function passphraseSecretKey(keyFile: string): string {
  return `ssh-passphrase:${keyFile}`;
}

interface LoadedKey {
  text: string;
  passphrase?: string;
}

/**
 * Private keys read from disk, decrypted at most once per cluster: concurrent connections to
 * eight nodes wait on the same passphrase question instead of asking eight times.
 */
export class KeyStore {
  private readonly loaded = new Map<string, Promise<LoadedKey | undefined>>();

  constructor(private readonly host: HostServices) {}

  /** undefined when the file is missing or the user gave no passphrase (then the key is skipped) */
  load(file: string): Promise<LoadedKey | undefined> {
    let p = this.loaded.get(file);
    if (!p) {
      p = this.read(file);
      this.loaded.set(file, p);
      // a failure (wrong passphrase) must not stick: the user may fix the stored secret
      p.catch(() => this.loaded.delete(file));
    }
    return p;
  }

  private async read(file: string): Promise<LoadedKey | undefined> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    const plain = utils.parseKey(text);
    if (!(plain instanceof Error)) return { text };
    if (!/passphrase/i.test(plain.message)) {
      throw new SshAuthError(`Cannot read private key ${file}: ${plain.message}`, { file }, 'Point IdentityFile at an OpenSSH or PEM private key.');
    }
    const passphrase = await this.host.getSecret(passphraseSecretKey(file), `Passphrase for SSH key ${file}`);
    if (passphrase === undefined) return undefined;
    const decrypted = utils.parseKey(text, passphrase);
    if (decrypted instanceof Error) {
      await this.host.forgetSecret?.(passphraseSecretKey(file));
      throw new SshAuthError(`The passphrase for ${file} is wrong`, { file }, 'Enter the passphrase again (MoE Bench forgets a wrong one), or load the key into ssh-agent.');
    }
    return { text, passphrase };
  }
}

export interface AuthPlan {
  user: string;
  agentSocket?: string;
  identityFiles: string[];
  identitiesOnly: boolean;
  homeDir: string;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * An ssh2 authHandler that tries the agent first, then each key file — lazily, so a passphrase is
 * only asked for when the agent could not log in. `tried` collects what was attempted, for the
 * error message when everything fails; `failure` keeps a typed error (wrong passphrase).
 */
export function makeAuthHandler(plan: AuthPlan, keys: KeyStore): { handler: AuthHandlerMiddleware; tried: string[]; failure: { error?: unknown } } {
  const tried: string[] = [];
  const failure: { error?: unknown } = {};
  const steps: (() => Promise<AnyAuthMethod | undefined>)[] = [];
  if (plan.agentSocket && !plan.identitiesOnly) {
    const socket = plan.agentSocket;
    steps.push(async () => {
      tried.push(`agent (${socket})`);
      return { type: 'agent', username: plan.user, agent: socket };
    });
  }
  const files = plan.identityFiles.length > 0 ? plan.identityFiles : DEFAULT_IDENTITY_NAMES.map((n) => path.join(plan.homeDir, '.ssh', n));
  for (const file of files) {
    steps.push(async () => {
      if (!(await exists(file))) return undefined;
      const key = await keys.load(file);
      if (!key) {
        tried.push(`key ${file} (skipped: no passphrase given)`);
        return undefined;
      }
      tried.push(`key ${file}`);
      return { type: 'publickey', username: plan.user, key: key.text, passphrase: key.passphrase };
    });
  }
  const handler: AuthHandlerMiddleware = (methodsLeft, _partial, next) => {
    const run = async (): Promise<AnyAuthMethod | false> => {
      if (methodsLeft && !methodsLeft.includes('publickey')) return false;
      for (let step = steps.shift(); step; step = steps.shift()) {
        const method = await step();
        if (method) return method;
      }
      return false;
    };
    run().then(
      (m) => callNext(next, m),
      (err: unknown) => {
        failure.error = err;
        callNext(next, false);
      },
    );
  };
  return { handler, tried, failure };
}

/** ssh2 accepts `false` ("no more methods") at run time; its typings only list methods. */
function callNext(next: (m: AnyAuthMethod) => void, method: AnyAuthMethod | false): void {
  (next as (m: AnyAuthMethod | false) => void)(method);
}
