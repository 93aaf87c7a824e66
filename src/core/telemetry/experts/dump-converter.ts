import { UnsafeInputError } from '../../util/errors';

/**
 * Runs on the node that holds the dump (SGLang writes it to SGLANG_EXPERT_DISTRIBUTION_RECORDER_DIR
 * on the rank-0 host, default /tmp; it is not returned over HTTP). Uses the server's own python
 * and torch for `.pt` files and plain json for `.json` files (the emulator writes those), and
 * reduces on the node so megabytes of per-pass tensors never cross SSH:
 *   stat/stat_approx: `logical_count` [passes, layers, experts] -> summed [layers, experts],
 *   per_pass: every rank's `records[].global_physical_count` -> summed [layers, physical experts].
 * With an EP size it also sends per-pass per-GPU loads (trivial layout) so balancedness can be
 * computed per pass exactly as SGLang's `compute_utilization_rate` does.
 * argv: <dir> <ep_size or 0> <max passes to send per-pass, 0 = none>
 * Prints one JSON object (format "moebench-expert-dump/1") or {"error": ...} with exit 3.
 */
export const EXPERT_DUMP_CONVERTER_PY = String.raw`
import glob, json, os, re, sys, time
d, ep, max_pp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pat = re.compile(r"expert_distribution_recorder_([0-9.]+)(?:_(\d+))?\.(pt|json)$")
found = []
for f in glob.glob(os.path.join(d, "expert_distribution_recorder_*")):
    m = pat.search(os.path.basename(f))
    if m:
        found.append((float(m.group(1)), f))
if not found:
    print(json.dumps({"error": "no expert_distribution_recorder_* file in " + d}))
    sys.exit(3)
newest = max(t for t, _ in found)
# per_pass dumps write one file per rank at nearly the same time; stat dumps one file
files = sorted(f for t, f in found if newest - t < 30)

def load(f):
    if f.endswith(".json"):
        with open(f) as fh:
            return json.load(fh), False
    import torch
    try:
        return torch.load(f, map_location="cpu", weights_only=True), True
    except TypeError:
        return torch.load(f, map_location="cpu"), True
    except Exception:
        return torch.load(f, map_location="cpu", weights_only=False), True

def tolist(x):
    return x.tolist() if hasattr(x, "tolist") else x

def add2(acc, m):
    if acc is None:
        return [list(r) for r in m]
    for i, r in enumerate(m):
        a = acc[i]
        for j, v in enumerate(r):
            a[j] += v
    return acc

def gpu_load(m):
    out = []
    for r in m:
        per = len(r) // ep
        out.append([sum(r[g * per:(g + 1) * per]) for g in range(ep)])
    return out

res = {"format": "moebench-expert-dump/1", "files": files, "nodeTimeSec": time.time(), "fileTimeSec": newest}
per_pass = []
# the newest file: two servers on one node (prefill and decode) dump into the same directory
first, _ = load(max(found)[1])
if "logical_count" in first:
    lc = first["logical_count"]
    res["mode"] = "stat"
    if hasattr(lc, "sum"):
        passes = [tolist(p) for p in lc] if (ep > 0 and max_pp > 0) else []
        res["numPasses"] = int((lc.reshape(lc.shape[0], -1).sum(1) > 0).sum()) if lc.dim() == 3 else 1
        res["logicalCount"] = tolist(lc.sum(0)) if lc.dim() == 3 else tolist(lc)
    else:
        # [passes][layers][experts], or one [layers][experts] matrix; an empty buffer is no passes
        lc3 = lc if (lc and lc[0] and isinstance(lc[0][0], list)) else ([lc] if lc and lc[0] else [])
        passes = lc3 if (ep > 0 and max_pp > 0) else []
        acc = None
        n = 0
        for p in lc3:
            acc = add2(acc, p)
            n += 1 if any(any(v for v in r) for r in p) else 0
        res["numPasses"] = n
        res["logicalCount"] = acc if acc is not None else []
    p2l = tolist(first["physical_to_logical_map"]) if first.get("physical_to_logical_map") is not None else None
    if p2l is not None:
        res["physicalToLogicalMap"] = p2l
    aur = first.get("average_utilization_rate_over_window")
    res["averageUtilizationRateOverWindow"] = float(aur) if aur is not None else None
    def to_physical(p):
        # replicas share their logical expert's load evenly (as experts/load.ts physicalFromLogical)
        if p2l is None:
            return p
        out = []
        for layer, counts in enumerate(p):
            m = p2l[layer] if layer < len(p2l) else p2l[0]
            reps = {}
            for l in m:
                reps[l] = reps.get(l, 0) + 1
            out.append([counts[l] / reps[l] if 0 <= l < len(counts) else 0 for l in m])
        return out
    for p in passes:
        if any(any(v for v in r) for r in p):
            per_pass.append(gpu_load(to_physical(p)))
else:
    res["mode"] = "per_pass"
    acc = None
    by_pass = {}
    p2l = None
    for f in files:
        data, _ = load(f)
        if data.get("last_physical_to_logical_map") is not None:
            p2l = tolist(data["last_physical_to_logical_map"])
        for rec in data.get("records", []):
            m = tolist(rec["global_physical_count"])
            acc = add2(acc, m)
            if ep > 0 and max_pp > 0:
                k = rec.get("forward_pass_id", 0)
                by_pass[k] = add2(by_pass.get(k), m)
    res["physicalCount"] = acc or []
    res["numPasses"] = len(by_pass) if by_pass else None
    if p2l is not None:
        res["physicalToLogicalMap"] = p2l
    per_pass = [gpu_load(by_pass[k]) for k in sorted(by_pass)]
if ep > 0 and max_pp > 0:
    res["perPassGpuLoad"] = per_pass[-max_pp:]
print(json.dumps(res))
`;

/** argv to convert the newest dump in `dir` on the node; nothing user-typed is pasted into the script. */
export function expertDumpConverterArgv(options: { dir?: string; epSize?: number; maxPerPass?: number; python?: string } = {}): string[] {
  const dir = options.dir ?? '/tmp';
  const python = options.python ?? 'python3';
  if (dir.includes('\0') || python.includes('\0')) throw new UnsafeInputError('NUL byte in the dump directory or python path');
  const ep = Math.max(0, Math.floor(options.epSize ?? 0));
  const maxPerPass = Math.max(0, Math.floor(options.maxPerPass ?? 0));
  return [python, '-c', EXPERT_DUMP_CONVERTER_PY, dir, String(ep), String(maxPerPass)];
}
