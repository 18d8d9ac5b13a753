// Turns a results JSON (bench/run.mjs) into docs/benchmarks.md and the SVG charts in
// docs/charts/, with vega-lite compiled to vega and rendered headless (`View.toSVG()`: no
// browser, no canvas). The analysis that is not a number (what bounds each miss, profiles) lives
// in bench/notes.md and is copied in as written.
//
//   node bench/report.mjs [bench/results/full.json]
//
// The charts are in report-charts.mjs, the page's sections in report-intro.mjs and
// report-tables.mjs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as prettier from 'prettier';
import { checkTargets, computeRatios, headline, summarize } from './analyze.mjs';
import { ORDER } from './report-chart-render.mjs';
import { renderCharts } from './report-charts.mjs';
import { introSections } from './report-intro.mjs';
import { measuredSections } from './report-tables.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

export async function writeReport(jsonPath = path.join(root, 'bench/results/full.json')) {
  const results = JSON.parse(readFileSync(jsonPath, 'utf8'));
  // Judged by today's rules, whatever the file says: the medians and ratios from the runs.
  if (Array.isArray(results.runs) && results.runs.length > 0) {
    results.summary = summarize(results.runs);
    results.ratios = computeRatios(results.summary);
  }
  const { summary, ratios, idle, overhead, settings } = results;
  const targets = checkTargets(summary, ratios, idle, overhead);
  results.headline = headline(summary, ratios, idle, overhead);
  const sorted = [...summary].sort(
    (a, b) =>
      a.rttMs - b.rttMs ||
      a.delayMs - b.delayMs ||
      ORDER.indexOf(a.label) - ORDER.indexOf(b.label) ||
      a.concurrency - b.concurrency,
  );
  const builtElsewhere =
    settings.package && !settings.package.startsWith('dist/')
      ? settings.package.replace(/\/index\.mjs$/, '')
      : undefined;
  const charts = await renderCharts(sorted, { idle, overhead });

  const notesPath = path.join(here, 'notes.md');
  const notes = existsSync(notesPath) ? readFileSync(notesPath, 'utf8').trim() : '';

  const md = [];
  introSections(md, { results, jsonPath, targets, builtElsewhere });
  measuredSections(md, { results, jsonPath, charts, sorted, notes });

  const text = `${md.join('\n\n')}\n`;
  const docPath = path.join(root, 'docs/benchmarks.md');
  const options = (await prettier.resolveConfig(docPath)) ?? {};
  writeFileSync(docPath, await prettier.format(text, { ...options, filepath: docPath }));
  process.stderr.write(
    `wrote docs/benchmarks.md and ${Object.keys(charts).length} charts in docs/charts/\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeReport(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
}
