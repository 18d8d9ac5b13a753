// Renders a vega-lite spec to docs/charts/<name>.svg: compiled to vega and rendered headless
// (`View.toSVG()`: no browser, no canvas), with the report's fonts and the subjects' order.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const chartsDir = path.join(root, 'docs/charts');

const FONT = 'Helvetica, Arial, sans-serif';
const CONFIG = {
  font: FONT,
  background: 'white',
  axis: { labelFontSize: 11, titleFontSize: 11, grid: true, gridColor: '#eee', labelLimit: 320 },
  legend: { labelFontSize: 11, titleFontSize: 11 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' },
  view: { stroke: null },
};
export const ORDER = [
  'sqs-streams',
  'sqs-streams SqsProcessor',
  'raw SDK loop (ceiling)',
  'sqs-consumer handleMessage',
  'sqs-consumer handleMessageBatch',
  'squiss-ts',
  'naive loop',
];
export const SUBJECT_COLORS = {
  domain: ORDER,
  range: ['#d6604d', '#f4a582', '#878787', '#4393c3', '#92c5de', '#5aae61', '#bababa'],
};

export async function renderChart(name, spec) {
  const compiled = vegaLite.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    ...spec,
  }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  mkdirSync(chartsDir, { recursive: true });
  writeFileSync(path.join(chartsDir, `${name}.svg`), `${svg}\n`);
  return `charts/${name}.svg`;
}
