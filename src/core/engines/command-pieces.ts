import type { SpecPath } from '../spec/yaml-spec';

/**
 * A command is built as pieces: the tokens of one flag (or the program) plus the spec path that
 * asked for it. The argv is the concatenation; validation checks each flag against the engine
 * release's catalog and reports a problem at the YAML line that produced the flag.
 */
export interface ArgPiece {
  tokens: string[];
  path: SpecPath;
  /** a flag copied from extraArgs (checked by the extraArgs rule, not again as generated) */
  fromExtraArgs?: boolean;
}

export interface BuiltCommand {
  pieces: ArgPiece[];
  /** environment: planner defaults first, then the user's env (the user wins) */
  env: Record<string, string>;
  /** where each env var came from */
  envPaths: Record<string, SpecPath>;
}

export function argvOf(cmd: BuiltCommand): string[] {
  return cmd.pieces.flatMap((p) => p.tokens);
}

export class PieceList {
  readonly pieces: ArgPiece[] = [];
  add(path: SpecPath, ...tokens: (string | number)[]): void {
    this.pieces.push({ tokens: tokens.map(String), path });
  }
  /** add a flag only when the value is set */
  opt(path: SpecPath, flag: string, value: string | number | undefined): void {
    if (value !== undefined) this.add(path, flag, value);
  }
  flag(path: SpecPath, flag: string, on: boolean | undefined): void {
    if (on) this.add(path, flag);
  }
  extra(args: readonly { token: string; path: SpecPath }[]): void {
    for (const a of args) this.pieces.push({ tokens: [a.token], path: a.path, fromExtraArgs: true });
  }
}
