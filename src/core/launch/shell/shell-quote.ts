import { UnsafeInputError } from '../../util/errors';

/**
 * The one quoting function. Every remote command is built from an argument array through
 * `shellCommand`; nothing user-typed is pasted into a command string.
 *
 * POSIX single quotes: everything between them is literal except the single quote itself,
 * which is written as '\'' . NUL cannot be carried by any shell argument and is refused.
 */
export function quoteArg(arg: string): string {
  if (arg.includes('\0')) {
    throw new UnsafeInputError('An argument contains a NUL byte, which no shell command can carry', {}, 'Remove the NUL character from the value.');
  }
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Shell-safe command line from an argument array. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new UnsafeInputError('Empty command');
  return argv.map(quoteArg).join(' ');
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function assertEnvName(name: string): void {
  if (!ENV_NAME.test(name)) {
    throw new UnsafeInputError(
      `Invalid environment variable name ${JSON.stringify(name)}`,
      { field: `env.${name}` },
      'Environment variable names may contain only letters, digits and underscores, and must not start with a digit.',
    );
  }
}

/** `env NAME=value ... argv...` with validated names and quoted values. */
export function envCommand(env: Readonly<Record<string, string>>, argv: readonly string[]): string {
  const names = Object.keys(env);
  if (names.length === 0) return shellCommand(argv);
  for (const n of names) assertEnvName(n);
  return shellCommand(['env', ...names.map((n) => `${n}=${env[n]}`), ...argv]);
}
