import { readdir, readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import SSHConfig from 'ssh-config';
import { SshConfigError } from './ssh-errors';

/**
 * Reads ~/.ssh/config the way OpenSSH does for the directives we honour: Host patterns (through
 * the `ssh-config` package), HostName, User, Port, IdentityFile, IdentitiesOnly, IdentityAgent,
 * UserKnownHostsFile, HostKeyAlias, ProxyJump (several hops) and Include (which the package does
 * not expand). `Match exec` is never evaluated: it would run shell commands from a config file.
 */

/** Where and how to reach one host; `via` is the previous ProxyJump hop, if any. */
export interface SshEndpoint {
  /** what the user wrote (alias or host name) */
  alias: string;
  hostName: string;
  port: number;
  user: string;
  identityFiles: string[];
  identitiesOnly: boolean;
  /** IdentityAgent: a socket path, or 'none' */
  identityAgent?: string;
  knownHostsFiles: string[];
  /** name to look up in known_hosts instead of hostName */
  hostKeyAlias?: string;
  via?: SshEndpoint;
}

export interface ResolveContext {
  /** parsed config, or undefined when the user has none */
  config: SSHConfig | undefined;
  homeDir: string;
  localUser: string;
}

const MAX_INCLUDE_DEPTH = 16;
const MAX_JUMP_DEPTH = 8;

function expandTilde(p: string, homeDir: string): string {
  if (p === '~') return homeDir;
  if (p.startsWith('~/')) return path.join(homeDir, p.slice(2));
  return p;
}

function globPartToRegExp(part: string): RegExp {
  return new RegExp(`^${part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

/** Minimal glob for Include: `*` and `?` in any path component, results sorted like glob(3). */
async function globFiles(pattern: string): Promise<string[]> {
  const parts = pattern.split('/').filter((p, i) => p !== '' || i === 0);
  let current = [pattern.startsWith('/') ? '/' : '.'];
  for (const part of parts.slice(pattern.startsWith('/') ? 1 : 0)) {
    const next: string[] = [];
    for (const dir of current) {
      if (!/[*?]/.test(part)) {
        next.push(path.join(dir, part));
        continue;
      }
      let names: string[] = [];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      const re = globPartToRegExp(part);
      for (const n of names.sort()) if (re.test(n) && !n.startsWith('.')) next.push(path.join(dir, n));
    }
    current = next;
  }
  return current;
}

/** Config text with every `Include` replaced by the files it names (relative to ~/.ssh). */
export async function expandIncludes(text: string, homeDir: string, depth = 0): Promise<string> {
  if (depth > MAX_INCLUDE_DEPTH) throw new SshConfigError('ssh_config Include nesting is too deep (a loop?)', {}, 'Check the Include lines of your ssh config.');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*Include\s*[= ]\s*(.+?)\s*$/i.exec(line);
    if (!m) {
      out.push(line);
      continue;
    }
    for (const raw of m[1].split(/\s+/)) {
      const p = expandTilde(raw.replace(/^"|"$/g, ''), homeDir);
      const abs = path.isAbsolute(p) ? p : path.join(homeDir, '.ssh', p);
      for (const file of await globFiles(abs)) {
        let included: string;
        try {
          included = await readFile(file, 'utf8');
        } catch {
          continue; // OpenSSH ignores Include targets that do not exist
        }
        out.push(await expandIncludes(included, homeDir, depth + 1));
      }
    }
  }
  return out.join('\n');
}

/** Parses the config file at `configPath` (default ~/.ssh/config); undefined when there is none. */
export async function loadSshConfig(configPath: string | undefined, homeDir: string): Promise<SSHConfig | undefined> {
  const file = configPath ?? path.join(homeDir, '.ssh', 'config');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && configPath === undefined) return undefined;
    throw new SshConfigError(`Cannot read ssh config ${file}: ${(err as Error).message}`, { file }, 'Check the sshConfig path of the cluster.');
  }
  return SSHConfig.parse(await expandIncludes(text, homeDir));
}

function str(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function list(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** %h %p %r %u %d %% tokens (ssh_config(5) TOKENS), for the directives that accept them. */
function expandTokens(value: string, e: { hostName: string; port: number; user: string }, ctx: ResolveContext): string {
  return value.replace(/%([hprud%])/g, (_, t: string) => {
    switch (t) {
      case 'h':
        return e.hostName;
      case 'p':
        return String(e.port);
      case 'r':
        return e.user;
      case 'u':
        return ctx.localUser;
      case 'd':
        return ctx.homeDir;
      default:
        return '%';
    }
  });
}

/** Explicit values from the cluster spec win over ssh_config, as `ssh -l user -p port` does. */
export interface EndpointOverrides {
  user?: string;
  port?: number;
  identityFile?: string;
  proxyJump?: string;
}

/** `[user@]host[:port]` or `ssh://[user@]host[:port]` (ProxyJump syntax). */
export function parseJumpSpec(spec: string): { host: string; user?: string; port?: number } {
  const s = spec.replace(/^ssh:\/\//, '');
  const at = s.lastIndexOf('@');
  const user = at >= 0 ? s.slice(0, at) : undefined;
  let hostPort = at >= 0 ? s.slice(at + 1) : s;
  let port: number | undefined;
  const bracket = /^\[(.+)\](?::(\d+))?$/.exec(hostPort);
  if (bracket) {
    hostPort = bracket[1];
    port = bracket[2] ? Number(bracket[2]) : undefined;
  } else {
    const m = /^([^:]+):(\d+)$/.exec(hostPort);
    if (m) {
      hostPort = m[1];
      port = Number(m[2]);
    }
  }
  return { host: hostPort, user: user || undefined, port };
}

export function resolveEndpoint(alias: string, overrides: EndpointOverrides, ctx: ResolveContext, depth = 0): SshEndpoint {
  if (depth > MAX_JUMP_DEPTH) throw new SshConfigError(`ProxyJump chain for ${alias} is too long (a loop?)`, { node: alias }, 'Check the ProxyJump lines of your ssh config.');
  const c = ctx.config ? ctx.config.compute(alias, { matchExec: false, ignoreCase: true }) : {};
  const proxyCommand = str(c.proxycommand);
  if (proxyCommand && proxyCommand.toLowerCase() !== 'none' && overrides.proxyJump === undefined && str(c.proxyjump) === undefined) {
    throw new SshConfigError(`ssh config for ${alias} uses ProxyCommand, which MoE Bench does not run`, { node: alias }, 'Use ProxyJump instead of ProxyCommand for this host.');
  }
  const user = overrides.user ?? str(c.user) ?? ctx.localUser;
  const port = overrides.port ?? Number(str(c.port) ?? 22);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new SshConfigError(`Invalid port ${String(str(c.port))} for ${alias}`, { node: alias }, 'Port must be a number from 1 to 65535.');
  }
  const partial = { hostName: alias, port, user };
  const hostName = expandTokens(str(c.hostname) ?? alias, partial, ctx);
  const tokenCtx = { hostName, port, user };
  const identityFiles = (overrides.identityFile ? [overrides.identityFile] : list(c.identityfile)).map((f) => expandTilde(expandTokens(f, tokenCtx, ctx), ctx.homeDir));
  const knownHostsFiles = list(c.userknownhostsfile)
    .flatMap((v) => v.split(/\s+/))
    .filter((v) => v !== '')
    .map((f) => expandTilde(expandTokens(f, tokenCtx, ctx), ctx.homeDir));
  const agent = str(c.identityagent);
  const endpoint: SshEndpoint = {
    alias,
    hostName,
    port,
    user,
    identityFiles,
    identitiesOnly: (str(c.identitiesonly) ?? 'no').toLowerCase() === 'yes',
    identityAgent: agent ? expandTilde(agent, ctx.homeDir) : undefined,
    knownHostsFiles: knownHostsFiles.length > 0 ? knownHostsFiles : [path.join(ctx.homeDir, '.ssh', 'known_hosts')],
    hostKeyAlias: str(c.hostkeyalias),
  };
  const jump = overrides.proxyJump ?? str(c.proxyjump);
  if (jump && jump.toLowerCase() !== 'none') {
    const hops = jump.split(',').map((h) => h.trim()).filter((h) => h !== '');
    let via: SshEndpoint | undefined;
    hops.forEach((hop, i) => {
      const j = parseJumpSpec(hop);
      // the first hop follows its own config (including its own ProxyJump); later hops go through
      // the previous one, as `ssh -J a,b` does
      const ep = resolveEndpoint(j.host, { user: j.user, port: j.port, proxyJump: i === 0 ? undefined : 'none' }, ctx, depth + 1);
      if (i > 0) ep.via = via;
      via = ep;
    });
    endpoint.via = via;
  }
  return endpoint;
}

export function defaultResolveContext(config: SSHConfig | undefined, homeDir = os.homedir()): ResolveContext {
  let localUser = 'root';
  try {
    localUser = os.userInfo().username;
  } catch {
    // no passwd entry (containers): keep a name rather than fail
  }
  return { config, homeDir, localUser };
}
