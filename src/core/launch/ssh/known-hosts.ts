import { createHash, createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { UnsafeInputError } from '../../util/errors';

/**
 * known_hosts checking as OpenSSH does it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): plain and
 * hashed (`|1|salt|hmac`) host fields, `*`/`?` patterns, `!negation`, `[host]:port` for non-22
 * ports, and the `@revoked` marker. `@cert-authority` lines are skipped: host certificates are
 * not supported, so such hosts are treated as unknown rather than trusted.
 */
export interface KnownHostEntry {
  marker?: 'revoked' | 'cert-authority';
  hosts: string;
  keyType: string;
  key: Buffer;
  /** 1-based line in the file, for messages */
  line: number;
}

export type HostKeyVerdict =
  | { verdict: 'trusted' }
  | { verdict: 'revoked' }
  /** the host is listed with other keys: never accept */
  | { verdict: 'changed'; expected: string[] }
  | { verdict: 'unknown' };

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (fields.length < 3 || fields[0].startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields[0] === '@revoked' ? 'revoked' : 'cert-authority';
      fields.shift();
      if (fields.length < 3) return;
    }
    const key = Buffer.from(fields[2], 'base64');
    if (key.length === 0) return;
    entries.push({ marker, hosts: fields[0], keyType: fields[1], key, line: i + 1 });
  });
  return entries;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Does the host field of one line match `name`? */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [salt, mac] = field.slice(3).split('|');
    if (!salt || !mac) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === mac;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('!')) {
      // a negated match wins over any positive one on the same line
      if (globToRegExp(pattern.slice(1)).test(name)) return false;
    } else if (globToRegExp(pattern).test(name)) {
      matched = true;
    }
  }
  return matched;
}

/** The raw key blob starts with its type string (RFC 4253 §6.6). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** `SHA256:...` exactly as `ssh-keygen -lf` prints it (base64 without padding). */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function checkHostKey(entries: readonly KnownHostEntry[], name: string, presented: Buffer): HostKeyVerdict {
  const forHost = entries.filter((e) => e.marker !== 'cert-authority' && hostFieldMatches(e.hosts, name));
  // a revoked key is refused whatever host it is listed for
  if (entries.some((e) => e.marker === 'revoked' && e.key.equals(presented))) return { verdict: 'revoked' };
  const plain = forHost.filter((e) => e.marker === undefined);
  if (plain.some((e) => e.key.equals(presented))) return { verdict: 'trusted' };
  if (plain.length > 0) return { verdict: 'changed', expected: [...new Set(plain.map((e) => fingerprintSha256(e.key)))] };
  return { verdict: 'unknown' };
}

/** Key types known for this host, to prefer them in the key exchange (as OpenSSH does). */
export function knownKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  return [...new Set(entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name)).map((e) => e.keyType))];
}

export async function readKnownHosts(file: string): Promise<KnownHostEntry[]> {
  try {
    return parseKnownHosts(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * A host field we are willing to write: a host name or address, or `[host]:port`. No spaces,
 * newlines, commas, wildcards, markers or hashes: the name can come from a notebook (a node's
 * host, an ssh_config HostKeyAlias) and must not add a second line or a pattern to the file.
 */
const WRITABLE_HOST = /^(?:\[[A-Za-z0-9._:%-]{1,253}\]:[0-9]{1,5}|[A-Za-z0-9._:%-]{1,253})$/;
/** key types are `ssh-ed25519`, `ecdsa-sha2-nistp256`, `sk-ssh-ed25519@openssh.com`... */
const WRITABLE_KEY_TYPE = /^[A-Za-z0-9][A-Za-z0-9@._+-]{0,63}$/;

/** Appends `name type base64` (what `ssh` writes after "yes"), creating the file if needed. */
export async function appendKnownHost(file: string, name: string, blob: Buffer): Promise<void> {
  const keyType = keyTypeOf(blob);
  if (!WRITABLE_HOST.test(name) || name.startsWith('-')) {
    throw new UnsafeInputError(`Refusing to write host name ${JSON.stringify(name.slice(0, 80))} into ${file}`, { file }, 'A host name or HostKeyAlias may hold letters, digits, ".", "-", "_", ":" and "%" only.');
  }
  if (!WRITABLE_KEY_TYPE.test(keyType)) {
    throw new UnsafeInputError(`Refusing to write a host key of type ${JSON.stringify(keyType.slice(0, 80))} into ${file}`, { file }, 'The server presented a malformed key.');
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const existing = await readFile(file, 'utf8');
    if (existing.length > 0 && !existing.endsWith('\n')) prefix = '\n';
  } catch {
    // a new file
  }
  await appendFile(file, `${prefix}${name} ${keyType} ${blob.toString('base64')}\n`, { mode: 0o600 });
}
