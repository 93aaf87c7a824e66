import { destOf, type OptionSpec, type ValueType } from './argparse';
import { SGLANG_SERVER_ARGS_TSV } from '../../engines/sglang/catalog-data';

/** the planner's flag catalog rows (flag, type, default, choices, help): one table for both */
const SGLANG_SERVER_ARGS = SGLANG_SERVER_ARGS_TSV.slice(1).map((line) => {
  const [flags = '', type = 'str', def = 'None', choices = ''] = line.split('\t');
  return [flags, type, def, choices] as const;
});

function defaultOf(raw: string, valueType: ValueType): unknown {
  if (raw === 'None' || raw === '(unset)' || raw === '(required)') return null;
  if (raw === 'False') return false;
  if (raw === 'True') return true;
  if (raw === '""') return '';
  if (raw === '{}' || raw === '[]') return JSON.parse(raw);
  if ((valueType === 'int' || valueType === 'int-suffix' || valueType === 'float') && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw;
}

/** argparse specs of `sglang serve` / `python -m sglang.launch_server` (commit 8905cbd) */
export const SERVER_ARG_SPECS: readonly OptionSpec[] = SGLANG_SERVER_ARGS.map(([flagText, type, def, choices]): OptionSpec => {
  const flags = flagText.split(',').map((f) => f.trim());
  const base = type.replace(/\s*\[deprecated\]/, '');
  let valueType: ValueType = 'str';
  if (base.startsWith('int (') || base === 'int (k/M/G or Ki/Mi/Gi suffix ok)') valueType = 'int-suffix';
  else if (base.startsWith('int') || base === 'list[int]') valueType = 'int';
  else if (base.startsWith('float') || base === 'list[float]') valueType = 'float';
  else if (base === 'JSON string') valueType = 'json';
  let kind: OptionSpec['kind'] = 'value';
  if (base.startsWith('flag (--no-')) kind = 'bool-optional';
  else if (base.startsWith('flag')) kind = 'flag';
  else if (base.startsWith('list[')) kind = 'list';
  else if (base === 'str (value optional)') kind = 'optional-value';
  return {
    flags,
    dest: destOf(flags[0]),
    kind,
    valueType,
    defaultValue: defaultOf(def, valueType),
    choices: choices ? choices.split('|') : undefined,
    required: def === '(required)',
  };
});

/** Every ServerArgs field with its argparse default (what /server_info starts from). */
export function defaultServerArgs(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of SERVER_ARG_SPECS) out[s.dest] = s.defaultValue;
  return out;
}

export const SERVER_USAGE = 'usage: sglang serve [-h] --model-path MODEL_PATH [--tokenizer-path TOKENIZER_PATH] [--host HOST] [--port PORT] [--tp-size TP_SIZE] [--dp-size DP_SIZE] [--ep-size EP_SIZE] ... (458 options; see sglang serve --help)';
