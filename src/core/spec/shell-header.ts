import { parse as parseYaml } from 'yaml';
import { SpecValidationError } from '../util/errors';

/**
 * Options of a shell cell, given as header comments before the first command:
 *   # name: setup
 *   # cluster: h100-a
 *   # nodes: all            (or [gpu-001, gpu-002])
 */
export interface ShellHeader {
  name?: string;
  cluster?: string;
  nodes: 'all' | string[];
}

export function parseShellHeader(source: string, cell?: string): ShellHeader {
  const header: ShellHeader = { nodes: 'all' };
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#!')) continue;
    if (!line.startsWith('#')) break;
    const m = /^#\s*(name|cluster|nodes)\s*:\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, key, raw] = m;
    if (key === 'nodes') {
      let value: unknown;
      try {
        value = parseYaml(raw, { logLevel: 'error' });
      } catch {
        value = undefined;
      }
      if (value === 'all') header.nodes = 'all';
      else if (typeof value === 'string' && value !== '') header.nodes = [value];
      else if (Array.isArray(value) && value.every((v) => typeof v === 'string') && value.length > 0) header.nodes = value as string[];
      else {
        throw new SpecValidationError(`"# nodes:" must be "all" or a list of node names, got ${JSON.stringify(raw)}`, { cell, line: i + 1, field: 'nodes' }, 'Write e.g. `# nodes: all` or `# nodes: [gpu-001, gpu-002]`.');
      }
    } else if (key === 'name') header.name = raw.trim();
    else header.cluster = raw.trim();
  }
  return header;
}
