/**
 * Deploy fields the emulator accepts (it parses the flags and env) but whose effect its
 * performance model does not contain. A sweep or ablation over one of them on a `sim` cluster
 * gives identical rows by construction, and says so instead of letting "no difference" read as a
 * finding. EPLB (balancedness, step time) and TBO (overlap, with its small-batch penalty) are
 * modelled and are not listed.
 */
export const SIM_UNMODELLED_FIELDS: Readonly<Record<string, string>> = {
  'moe.deepGemm':
    'DeepGEMM (SGLANG_ENABLE_JIT_DEEPGEMM) is not modelled by the simulator: its step-time model has no GEMM-kernel term, so on and off give the same numbers. Measure it on GPUs.',
};

/** The notes for the swept fields the simulator does not model (empty when all are modelled). */
export function unmodelledNotes(fields: readonly string[]): string[] {
  return fields.flatMap((f) => (SIM_UNMODELLED_FIELDS[f] ? [`${f}: ${SIM_UNMODELLED_FIELDS[f]}`] : []));
}
