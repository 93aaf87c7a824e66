import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { MoeBenchError } from '../util/errors';

export class PlotlyNotFoundError extends MoeBenchError {}

let cached: Promise<string> | undefined;

/**
 * plotly.min.js read at run time, to inline into self-contained HTML. Found through node's module
 * resolution (the CLI and tests run next to node_modules), else beside the bundle (a packaged
 * extension ships it in out/).
 */
export function plotlySource(): Promise<string> {
  cached ??= load().catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

async function load(): Promise<string> {
  const candidates: string[] = [];
  try {
    candidates.push(require.resolve('plotly.js-dist-min/plotly.min.js'));
  } catch {
    // not resolvable from here: try the bundle's folder
  }
  candidates.push(path.join(__dirname, 'plotly.min.js'), path.join(__dirname, 'media', 'plotly.min.js'));
  for (const file of candidates) {
    try {
      return await readFile(file, 'utf8');
    } catch {
      // next candidate
    }
  }
  throw new PlotlyNotFoundError('Cannot find plotly.min.js to inline into the HTML report', { file: candidates[0] }, 'Install dependencies (npm install) or export md/csv instead.');
}
