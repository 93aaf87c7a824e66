/**
 * The fixed commands the doctor runs on every node. User data (the model path, the engine's
 * package name) only ever travels as a positional argument of a fixed script or argv, never in
 * a command string.
 */
export interface DoctorProbeOptions {
  /** a path on the nodes whose filesystem must hold the model (df) */
  modelPath?: string;
  /** the engine's Python distribution ("sglang", "vllm") */
  enginePackage?: string;
}

export type ProbeId = 'gpu' | 'topo' | 'nvlink' | 'ibstat' | 'ibvDevinfo' | 'hcaNuma' | 'modules' | 'xid' | 'disk' | 'engine' | 'ports';

/** HCA -> NUMA node from sysfs; prints nothing when the node has no RDMA devices */
const HCA_NUMA_SCRIPT = 'for d in /sys/class/infiniband/*; do [ -e "$d" ] || continue; printf "%s %s\\n" "${d##*/}" "$(cat "$d/device/numa_node" 2>/dev/null || echo -1)"; done';

/** Xid lines from the kernel log; exit 3 when the log cannot be read (dmesg_restrict) */
const XID_SCRIPT = 'if out=$(dmesg 2>/dev/null); then printf "%s\\n" "$out" | grep "NVRM: Xid" || true; exit 0; fi; exit 3';

/** the installed version of a distribution; exit 3 when it is not installed */
const ENGINE_SCRIPT = 'import sys, importlib.metadata as m\ntry:\n    print(m.version(sys.argv[1]))\nexcept m.PackageNotFoundError:\n    sys.exit(3)';

export function probeArgv(id: ProbeId, o: DoctorProbeOptions): readonly string[] | undefined {
  switch (id) {
    case 'gpu':
      return ['nvidia-smi', '-q', '-x'];
    case 'topo':
      return ['nvidia-smi', 'topo', '-m'];
    case 'nvlink':
      return ['nvidia-smi', 'nvlink', '-s'];
    case 'ibstat':
      return ['ibstat'];
    case 'ibvDevinfo':
      return ['ibv_devinfo'];
    case 'hcaNuma':
      return ['sh', '-c', HCA_NUMA_SCRIPT];
    case 'modules':
      return ['cat', '/proc/modules'];
    case 'xid':
      return ['sh', '-c', XID_SCRIPT];
    case 'disk':
      return o.modelPath ? ['df', '-P', '-k', '--', o.modelPath] : undefined;
    case 'engine':
      return ['python3', '-c', ENGINE_SCRIPT, o.enginePackage ?? 'sglang'];
    case 'ports':
      return ['ss', '-Htln'];
  }
}

export const PROBES: readonly ProbeId[] = ['gpu', 'topo', 'nvlink', 'ibstat', 'hcaNuma', 'modules', 'xid', 'disk', 'engine', 'ports'];
