// uPlot charts. The numbers here are geometry only (bar heights, line positions, ticks);
// every figure a reader takes away is in the table beside the chart, as the API wrote it.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from './dom';
import { date as formatDate } from './format';

/** A decimal string as a plotting coordinate (geometry only; never shown). */
function coord(value: string | null): number | null {
  if (value === null) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function widthOf(el: HTMLElement): number {
  return Math.max(280, Math.min(1240, (el.clientWidth || 640) - 4));
}

/** Tick labels for a money axis: whole units with thin grouping (scale marks, not figures). */
function moneyTicks(_u: uPlot, splits: number[]): string[] {
  return splits.map((v) => {
    const abs = Math.abs(v);
    if (abs >= 1e9) return `${trim(v / 1e9)}B`;
    if (abs >= 1e6) return `${trim(v / 1e6)}M`;
    if (abs >= 1e3) return `${trim(v / 1e3)}k`;
    return trim(v);
  });
}

function trim(v: number): string {
  return String(Math.round(v * 100) / 100);
}

const INK = '#1f2933';
const GRID = '#d9dee3';

/** Bars of outstanding principal by bucket. */
export function agingChart(container: HTMLElement, label: string, rows: { bucket: string; outstanding_principal: string }[]): () => void {
  const buckets = rows.map((r) => r.bucket);
  const xs = buckets.map((_, i) => i);
  const ys = rows.map((r) => coord(r.outstanding_principal));
  const target = h('div', { class: 'chart', role: 'img', 'aria-label': label, 'data-testid': 'aging-chart' });
  container.appendChild(target);
  const bars = uPlot.paths.bars!({ size: [0.6, 80] });
  const plot = new uPlot(
    {
      width: widthOf(container),
      height: 240,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false, range: [-0.5, Math.max(0, xs.length - 0.5)] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        {
          stroke: INK,
          grid: { show: false },
          splits: () => xs,
          values: (_u, splits) => splits.map((i) => buckets[i] ?? ''),
        },
        { stroke: INK, grid: { stroke: GRID }, values: moneyTicks, size: 56 },
      ],
      series: [{}, { label, fill: '#2f6690', stroke: '#1d4e74', width: 1, paths: bars, points: { show: false } }],
    },
    [xs, ys],
    target,
  );
  return () => plot.destroy();
}

export interface TrendSeries {
  label: string;
  color: string;
  dash?: number[];
  values: (string | null)[];
}

/** Lines of ratios (as percents) over business dates. */
export function trendChart(container: HTMLElement, label: string, dates: string[], series: TrendSeries[]): () => void {
  const xs = dates.map((d) => {
    const [y, m, day] = d.split('-').map(Number);
    return Date.UTC(y, m - 1, day) / 1000;
  });
  const target = h('div', { class: 'chart', role: 'img', 'aria-label': label, 'data-testid': 'trend-chart' });
  container.appendChild(target);
  const plot = new uPlot(
    {
      width: widthOf(container),
      height: 260,
      legend: { live: false },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'UTC'),
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        {
          stroke: INK,
          grid: { stroke: GRID },
          space: 110,
          // Dates are labelled as the business dates they are, in UTC: no zone shift.
          values: (_u, splits) => splits.map((s) => formatDate(new Date(s * 1000).toISOString().slice(0, 10))),
        },
        { stroke: INK, grid: { stroke: GRID }, values: (_u, splits) => splits.map((v) => `${trim(v)}%`), size: 56 },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          dash: s.dash,
          spanGaps: false,
          points: { show: dates.length < 40, size: 5 },
        })),
      ],
    },
    [xs, ...series.map((s) => s.values.map((v) => (v === null ? null : (coord(v) ?? 0) * 100)))],
    target,
  );
  return () => plot.destroy();
}
