import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Block, OutputDoc, PlotBlock } from '../../src/core/output/doc';
import { ChartPage, type ThemeName } from '../harness/chart-page';

// Every chart kind the cells draw (fixture: the plot blocks of a real quickstart run on the
// simulator — bench, telemetry, deep telemetry, report — plus the expert heatmaps; see
// test/fixtures/charts/README.md), drawn by the real renderer in Chromium at the two widths a
// notebook usually has, in a light and a dark theme. Text boxes are measured from the DOM: no two
// may overlap, none may sit on the data or under the modebar, none may be cut off.
// Screenshots land in test-results/charts/ for a person to look at.

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'charts', 'plots.json');
const SHOTS = path.join(__dirname, '..', '..', 'test-results', 'charts');
const WIDTHS = [900, 1400];
const THEMES: ThemeName[] = ['light', 'dark'];

let page: ChartPage;
before(async () => {
  page = await ChartPage.start();
});
after(async () => {
  await page?.dispose();
});

const plots = JSON.parse(readFileSync(FIXTURE, 'utf8')) as PlotBlock[];

for (const width of WIDTHS) {
  for (const theme of THEMES) {
    test(`charts read cleanly at ${width} px in the ${theme} theme: no overlapping, covered or clipped text`, async () => {
      const dir = path.join(SHOTS, `${theme}-${width}`);
      mkdirSync(dir, { recursive: true });
      const problems: string[] = [];
      // a few plots per page, as a cell shows them
      for (let i = 0; i < plots.length; i += 4) {
        const blocks: Block[] = plots.slice(i, i + 4);
        const doc: OutputDoc = { version: 1, blocks } as OutputDoc;
        const r = await page.render(doc, width, theme);
        for (const p of r.problems) problems.push(`${p.plot}: ${p.what}`);
        for (const b of blocks) {
          const el = await r.page.$(`.moebench-plot[data-plot-id="${(b as PlotBlock).id}"]`);
          await el?.screenshot({ path: path.join(dir, `${(b as PlotBlock).id}.png`) });
        }
        await r.page.close();
      }
      assert.deepEqual(problems, [], `layout problems at ${width} px, ${theme}:\n${problems.join('\n')}`);
    });
  }
}
