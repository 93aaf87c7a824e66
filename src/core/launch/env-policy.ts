/**
 * Environment names a notebook may not set without the user's say-so.
 *
 * A notebook is shared like a Jupyter notebook, so its `env:` values are data someone else wrote.
 * Most names are harmless (SGLANG_*, NCCL_DEBUG, CUDA_VISIBLE_DEVICES), but some make a shell, the
 * dynamic loader or an interpreter run code, or load a file, chosen by the value the moment the
 * process starts: `BASH_ENV='$(...)'` runs before any server, `SHELLOPTS=xtrace` + `PS4='$(...)'`
 * does the same in every bash, `LD_PRELOAD` loads a library, `PYTHONSTARTUP`/`PYTHONPATH` run or
 * import a file, `PATH` chooses which `python3` runs. Those names are refused unless the user
 * allows each one explicitly in settings that live outside the notebook
 * (`moebench.env.allowNames` in VS Code, `--allow-env NAME` on the CLI).
 *
 * The rules are patterns over whole families (every `LD_*`, every `BASH_FUNC_*`, every `*_PLUGIN`
 * path), not a list of the examples that were found, so a new member of a family is refused too.
 */

interface NameRule {
  test: (name: string) => boolean;
  /** why the name is code, for the message */
  why: string;
}

const exact = (names: readonly string[], why: string): NameRule => {
  const set = new Set(names);
  return { test: (n) => set.has(n), why };
};
const prefix = (p: string, why: string, except: readonly string[] = []): NameRule => ({ test: (n) => n.startsWith(p) && !except.includes(n), why });

/** Python variables that only tune the interpreter (no file, module or code is chosen by the value) */
const HARMLESS_PYTHON = [
  'PYTHONUNBUFFERED', 'PYTHONHASHSEED', 'PYTHONDONTWRITEBYTECODE', 'PYTHONFAULTHANDLER', 'PYTHONIOENCODING',
  'PYTHONUTF8', 'PYTHONOPTIMIZE', 'PYTHONNOUSERSITE', 'PYTHONVERBOSE', 'PYTHONDEBUG', 'PYTHONMALLOC',
  'PYTHONMALLOCSTATS', 'PYTHONTRACEMALLOC', 'PYTHONDEVMODE', 'PYTHONSAFEPATH', 'PYTHONNODEBUGRANGES',
  'PYTHONINTMAXSTRDIGITS', 'PYTHONCOERCECLOCALE', 'PYTHONLEGACYWINDOWSSTDIO', 'PYTHONGC',
] as const;

const RULES: readonly NameRule[] = [
  // bash, dash, sh, ksh: read a file named by the value, or evaluate the value, at start
  exact(['BASH_ENV', 'ENV', 'SHELLOPTS', 'BASHOPTS', 'PS0', 'PS1', 'PS2', 'PS3', 'PS4', 'PROMPT_COMMAND', 'IFS', 'CDPATH', 'GLOBIGNORE', 'BASH_XTRACEFD', 'BASH_LOADABLES_PATH', 'EXECIGNORE', 'FPATH', 'HISTFILE', 'INPUTRC', 'MAIL', 'MAILPATH', 'POSIXLY_CORRECT'], 'a shell reads or evaluates it when it starts'),
  prefix('BASH_FUNC_', 'bash imports it as a function definition'),
  // zsh, fish, tcsh: startup files are found through these
  exact(['ZDOTDIR', 'ZSH', 'XDG_CONFIG_HOME', 'XDG_DATA_DIRS', 'XDG_CONFIG_DIRS', 'XDG_DATA_HOME', 'HOME', 'SHELL', 'TERMINFO', 'TERMINFO_DIRS'], 'a shell or a program finds its startup files through it'),
  // every program: which binary runs
  exact(['PATH'], 'it chooses which program runs for every command name'),
  // glibc's dynamic loader and friends
  prefix('LD_', 'the dynamic loader reads it (libraries to load, audit modules)'),
  prefix('DYLD_', 'the dynamic loader reads it'),
  exact(['GCONV_PATH', 'GETCONF_DIR', 'HOSTALIASES', 'LOCPATH', 'NLSPATH', 'RESOLV_HOST_CONF', 'MALLOC_CONF', 'GLIBC_TUNABLES', 'TZDIR'], 'the C library loads files named by it'),
  // interpreters: startup code, module search paths, options that run code
  prefix('PYTHON', 'the Python interpreter runs, imports or loads what it names', HARMLESS_PYTHON),
  exact(['VIRTUAL_ENV', 'CONDA_PREFIX', 'PIP_CONFIG_FILE'], 'it chooses which Python environment or startup file is used'),
  exact(['PERL5OPT', 'PERL5LIB', 'PERLLIB', 'PERL5DB', 'PERL_MB_OPT', 'PERL_MM_OPT', 'RUBYOPT', 'RUBYLIB', 'GEM_HOME', 'GEM_PATH', 'NODE_OPTIONS', 'NODE_PATH', 'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'CLASSPATH', 'LUA_INIT', 'LUA_PATH', 'LUA_CPATH', 'TCLLIBPATH', 'R_PROFILE', 'R_PROFILE_USER', 'R_ENVIRON', 'R_ENVIRON_USER'], 'an interpreter runs or loads what it names at start'),
  // compilers and JIT toolchains that libraries invoke by name (Triton, torch inductor, DeepGEMM)
  exact(['CC', 'CXX', 'CPP', 'LD', 'AR', 'NVCC', 'CUDA_HOME', 'CUDA_PATH', 'TRITON_PTXAS_PATH', 'TRITON_CUOBJDUMP_PATH', 'TRITON_NVDISASM_PATH', 'TRITON_LIBCUDA_PATH', 'TORCH_EXTENSIONS_DIR'], 'a library runs the program or loads the files it names'),
  // plugin loaders (NCCL_NET_PLUGIN, NCCL_TUNER_PLUGIN, NCCL_PROFILER_PLUGIN, ...) dlopen the value
  { test: (n) => /_PLUGINS?(_PATH|_LIB|_DIR)?$/.test(n), why: 'a library loads the plugin it names' },
  exact(['OPAL_PREFIX', 'OMPI_MCA_plm_rsh_agent', 'UCX_MODULE_DIR', 'HWLOC_PLUGINS_PATH'], 'a library loads the plugin or runs the program it names'),
  // tools that run commands named by a variable
  prefix('GIT_', 'git runs programs or reads configuration it names'),
  exact(['EDITOR', 'VISUAL', 'PAGER', 'BROWSER', 'SSH_ASKPASS', 'SUDO_ASKPASS'], 'a program runs the command it names'),
];

/** Why `name` is refused by default, or undefined for a name a notebook may set. */
export function envNameRisk(name: string): string | undefined {
  for (const rule of RULES) if (rule.test(name)) return rule.why;
  return undefined;
}

/** True when the notebook may set `name`: a harmless name, or one the user allowed outside the notebook. */
export function envNameAllowed(name: string, allowNames: readonly string[] = []): boolean {
  return envNameRisk(name) === undefined || allowNames.includes(name);
}

/** Where the allow list lives, for messages (VS Code setting / CLI flag). */
export const ENV_ALLOW_HINT = 'If you mean it, allow this name outside the notebook: the VS Code setting "moebench.env.allowNames", or `moebench run|plan --allow-env NAME`. A notebook cannot allow names itself.';
