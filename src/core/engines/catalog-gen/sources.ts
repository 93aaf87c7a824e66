import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CatalogSourceError, SGLANG_ARG_GROUPS_DIR, SGLANG_ROUTER_ARGS_PATHS, SGLANG_SERVER_ARGS_PATH } from './extract';

/**
 * Where the generator reads SGLang's source from: a git repository (work tree or bare, any
 * revision, tags for the history) or a plain folder holding the files at their repository paths
 * (a "file set", e.g. copied out of a container image's site-packages).
 */
export interface SourceTree {
  describe: string;
  /** the files the extractor wants, at `rev` (undefined: the folder as it is) */
  read(rev?: string): Map<string, string>;
  commitOf(rev?: string): string | undefined;
  dateOf(rev?: string): string | undefined;
  /** release tags, oldest first (git only) */
  releaseTags(): string[];
}

export function wanted(path: string): boolean {
  return path === SGLANG_SERVER_ARGS_PATH || SGLANG_ROUTER_ARGS_PATHS.includes(path) || (path.startsWith(`${SGLANG_ARG_GROUPS_DIR}/`) && path.endsWith('.py') && (path.includes('/fields/') || path.endsWith('/choices.py') || path.endsWith('/field_order.py') || path.endsWith('_hook.py')));
}

export function openSource(path: string, want: (repoPath: string) => boolean = wanted): SourceTree {
  if (!existsSync(path)) throw new CatalogSourceError(`${path} does not exist`);
  const gitDir = existsSync(join(path, '.git')) ? join(path, '.git') : existsSync(join(path, 'HEAD')) && existsSync(join(path, 'objects')) ? path : undefined;
  if (gitDir) return gitSource(gitDir, want);
  return folderSource(path, want);
}

function gitSource(gitDir: string, want: (repoPath: string) => boolean): SourceTree {
  const git = (...args: string[]) => execFileSync('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return {
    describe: gitDir,
    read(rev = 'HEAD') {
      const files = new Map<string, string>();
      const listed = git('ls-tree', '-r', '--name-only', rev, '--', 'python/sglang/srt', 'sgl-model-gateway', 'sgl-router', 'vllm/engine', 'vllm/config', 'vllm/entrypoints/openai').split('\n').filter(want);
      for (const p of listed) files.set(p, git('show', `${rev}:${p}`));
      if (files.size === 0) throw new CatalogSourceError(`${rev} in ${gitDir} has none of the files the catalog is read from`);
      return files;
    },
    commitOf: (rev = 'HEAD') => git('rev-list', '-n', '1', rev).trim(),
    dateOf: (rev = 'HEAD') => git('log', '-1', '--format=%cs', rev).trim(),
    releaseTags: () =>
      git('tag', '--list', 'v*')
        .split('\n')
        .map((t) => t.trim())
        .filter((t) => /^v\d+\.\d+\.\d+(\.post\d+)?$/.test(t)),
  };
}

function folderSource(root: string, want: (repoPath: string) => boolean): SourceTree {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === '.git' || name === 'node_modules' || name === '__pycache__') continue;
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else {
        const rel = relative(root, full).split('\\').join('/');
        if (want(rel)) files.set(rel, readFileSync(full, 'utf8'));
      }
    }
  };
  walk(root);
  // a file set copied from elsewhere names its commit in SOURCE_COMMIT ("<sha> <yyyy-mm-dd>")
  const stamp = existsSync(join(root, 'SOURCE_COMMIT')) ? readFileSync(join(root, 'SOURCE_COMMIT'), 'utf8').trim().split(/\s+/) : [];
  return {
    describe: root,
    read() {
      if (files.size === 0) throw new CatalogSourceError(`${root} holds none of the files the catalog is read from (e.g. ${SGLANG_SERVER_ARGS_PATH}): point at the repository root`);
      return new Map(files);
    },
    commitOf: () => stamp[0],
    dateOf: () => stamp[1],
    releaseTags: () => [],
  };
}
