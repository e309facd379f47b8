// Portfolio: aging (chart + table), headline ratios, their trend, and roll rates between two closes.

import { get, qs, type Flows, type FlowKey, type Job, type Portfolio, type Trend } from '../api';
import { agingChart, trendChart } from '../charts';
import { fill, h } from '../dom';
import { addDays, amount, count, date, isDate, monthsBefore, percent } from '../format';
import { t, type Key } from '../i18n';
import { replaceQuery, type PageContext } from '../router';
import { csvButton, field, loading, problemBox, section, table, tile } from '../ui';

const FLOW_KEYS: FlowKey[] = ['to_next', 'worse', 'same', 'better', 'closed', 'written_off', 'unranked'];

/** The latest completed close, from the newest page of runs; null when there is none. */
async function latestClose(): Promise<string | null> {
  const { items } = await get<{ items: Job[] }>('/v1/jobs?limit=20');
  return items.find((j) => j.status === 'completed')?.business_date ?? null;
}

export async function portfolioPage(ctx: PageContext): Promise<void> {
  const { root, query } = ctx;
  const heading = h('h1', { tabindex: '-1' }, t('portfolio.title'));
  const status = h('div', { 'aria-live': 'polite' });
  fill(root, heading, status);

  let day = query.get('date');
  if (!isDate(day)) {
    status.appendChild(loading());
    try {
      day = await latestClose();
      if (!ctx.alive()) return;
      fill(status);
      if (!day) status.appendChild(h('p', { class: 'note' }, t('portfolio.noClose')));
    } catch (err) {
      if (!ctx.alive()) return;
      fill(status, problemBox(err));
    }
  }

  const state = {
    date: day ?? '',
    tfrom: query.get('tfrom') ?? '',
    tto: query.get('tto') ?? '',
    ffrom: query.get('ffrom') ?? '',
    fto: query.get('fto') ?? '',
  };
  const defaults = () => {
    if (!state.date) return;
    if (!isDate(state.tto)) state.tto = state.date;
    if (!isDate(state.tfrom)) state.tfrom = addDays(state.tto, -90);
    if (!isDate(state.fto)) state.fto = state.date;
    if (!isDate(state.ffrom)) state.ffrom = monthsBefore(state.fto, 1);
  };
  defaults();
  const remember = () => replaceQuery(state);

  // --- The business date picker.
  const dateInput = h('input', { type: 'date', name: 'date', required: true, value: state.date, 'data-testid': 'portfolio-date' });
  const dateForm = h(
    'form',
    {
      class: 'inline-form',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        if (!isDate(dateInput.value)) return;
        state.date = dateInput.value;
        // A new date moves the trend's and the flows' end with it.
        state.tto = state.fto = '';
        state.tfrom = state.ffrom = '';
        defaults();
        remember();
        tFrom.value = state.tfrom;
        tTo.value = state.tto;
        fFrom.value = state.ffrom;
        fTo.value = state.fto;
        void loadSummary();
        void loadTrend();
        void loadFlows();
      },
    },
    field(t('portfolio.date'), dateInput),
    h('button', { type: 'submit', 'data-testid': 'portfolio-show' }, t('common.show')),
  );
  root.appendChild(dateForm);

  // --- Headline figures and aging.
  const summaryBody = h('div', { 'data-testid': 'summary' });
  const agingBody = h('div', {});
  const summaryPath = () => `/v1/portfolio${qs({ date: state.date })}`;
  root.appendChild(section('portfolio.headline', 'headline', summaryBody));
  root.appendChild(
    section(
      'portfolio.aging',
      'aging',
      csvButton(() => `/v1/portfolio${qs({ date: state.date, format: 'csv' })}`, () => `portfolio-${state.date}.csv`, 'csv-aging'),
      agingBody,
    ),
  );
  let destroyAging: (() => void) | null = null;
  ctx.onLeave(() => destroyAging?.());

  async function loadSummary(): Promise<void> {
    if (!state.date) return;
    fill(summaryBody, loading());
    fill(agingBody);
    destroyAging?.();
    destroyAging = null;
    try {
      const p = await get<Portfolio>(summaryPath());
      if (!ctx.alive()) return;
      renderSummary(p);
    } catch (err) {
      if (!ctx.alive()) return;
      fill(summaryBody, problemBox(err));
    }
  }

  function renderSummary(p: Portfolio): void {
    fill(
      summaryBody,
      h('p', { class: 'as-of', 'data-testid': 'as-of' }, t('portfolio.asOf', { date: date(p.business_date) })),
      h(
        'dl',
        { class: 'tiles' },
        tile(t('portfolio.par30'), percent(p.par30), 'par30'),
        tile(t('portfolio.par90'), percent(p.par90), 'par90'),
        tile(t('portfolio.npl'), percent(p.npl_ratio), 'npl-ratio'),
        tile(t('portfolio.overdueRate'), percent(p.overdue_rate), 'overdue-rate'),
        tile(t('portfolio.overdueRateCount'), percent(p.overdue_rate_by_count), 'overdue-rate-count'),
        tile(t('portfolio.loans'), count(p.totals.loans), 'totals-loans'),
        tile(t('portfolio.outstanding'), amount(p.totals.outstanding_principal), 'totals-principal'),
        tile(t('portfolio.overdueAmount'), amount(p.totals.overdue_amount), 'totals-overdue'),
      ),
      h(
        'p',
        { 'data-testid': 'written-off' },
        h('strong', {}, `${t('portfolio.writtenOff')}: `),
        t('portfolio.writtenOffDetail', {
          loans: count(p.written_off.loans),
          principal: amount(p.written_off.charged_off_principal),
          recovered: amount(p.written_off.recovered),
          rate: percent(p.written_off.recovery_rate),
        }),
      ),
      h('p', {}, h('strong', {}, `${t('portfolio.restructured')}: `), `${count(p.restructured.loans)} / ${count(p.re_aged.loans)}`),
    );
    const chartBox = h('div', { class: 'chart-box' });
    fill(
      agingBody,
      chartBox,
      table(
        t('portfolio.aging'),
        [
          { head: t('portfolio.bucket'), cell: (r) => r.bucket, rowHeader: true },
          { head: t('portfolio.loans'), cell: (r) => count(r.loans), num: true, testid: (r) => `aging-loans-${r.bucket}` },
          { head: t('portfolio.outstanding'), cell: (r) => amount(r.outstanding_principal), num: true, testid: (r) => `aging-principal-${r.bucket}` },
          { head: t('portfolio.share'), cell: (r) => percent(r.share), num: true, testid: (r) => `aging-share-${r.bucket}` },
        ],
        p.aging,
        {
          testid: 'aging-table',
          captionHidden: true,
          rowAttrs: (r) => ({ 'data-testid': `aging-row-${r.bucket}` }),
          foot: [
            h('th', { scope: 'row' }, t('portfolio.total')),
            h('td', { class: 'num', 'data-testid': 'aging-loans-total' }, count(p.totals.loans)),
            h('td', { class: 'num', 'data-testid': 'aging-principal-total' }, amount(p.totals.outstanding_principal)),
            h('td', {}),
          ],
        },
      ),
    );
    destroyAging = agingChart(chartBox, t('portfolio.agingChart'), p.aging);
  }

  // --- Trend.
  const tFrom = h('input', { type: 'date', name: 'tfrom', required: true, value: state.tfrom, 'data-testid': 'trend-from' });
  const tTo = h('input', { type: 'date', name: 'tto', required: true, value: state.tto, 'data-testid': 'trend-to' });
  const trendBody = h('div', {});
  let destroyTrend: (() => void) | null = null;
  ctx.onLeave(() => destroyTrend?.());
  root.appendChild(
    section(
      'portfolio.trend',
      'trend',
      rangeForm(tFrom, tTo, 'trend-show', () => {
        state.tfrom = tFrom.value;
        state.tto = tTo.value;
        remember();
        void loadTrend();
      }),
      csvButton(() => `/v1/portfolio/trend${qs({ from: state.tfrom, to: state.tto, format: 'csv' })}`, () => `trend-${state.tfrom}-${state.tto}.csv`, 'csv-trend'),
      trendBody,
    ),
  );

  async function loadTrend(): Promise<void> {
    if (!isDate(state.tfrom) || !isDate(state.tto)) return;
    const path = `/v1/portfolio/trend${qs({ from: state.tfrom, to: state.tto })}`;
    fill(trendBody, loading());
    destroyTrend?.();
    destroyTrend = null;
    try {
      const trend = await get<Trend>(path);
      if (!ctx.alive()) return;
      renderTrend(trend);
    } catch (err) {
      if (!ctx.alive()) return;
      fill(trendBody, problemBox(err));
    }
  }

  function renderTrend(trend: Trend): void {
    if (!trend.points.length) {
      fill(trendBody, h('p', { class: 'note', 'data-testid': 'trend-empty' }, t('portfolio.trendEmpty')));
      return;
    }
    const chartBox = h('div', { class: 'chart-box' });
    const pts = trend.points;
    fill(
      trendBody,
      chartBox,
      h(
        'details',
        { open: pts.length <= 12 },
        h('summary', {}, t('portfolio.trendTable')),
        table(
          t('portfolio.trendTable'),
          [
            { head: t('portfolio.date'), cell: (p) => date(p.business_date), rowHeader: true },
            { head: t('portfolio.loans'), cell: (p) => count(p.loans), num: true },
            { head: t('portfolio.outstanding'), cell: (p) => amount(p.outstanding_principal), num: true },
            { head: t('portfolio.overdueAmount'), cell: (p) => amount(p.overdue_amount), num: true },
            { head: t('portfolio.par30'), cell: (p) => percent(p.par30), num: true, testid: (p) => `trend-par30-${p.business_date}` },
            { head: t('portfolio.par90'), cell: (p) => percent(p.par90), num: true },
            { head: t('portfolio.npl'), cell: (p) => percent(p.npl_ratio), num: true },
            { head: t('portfolio.overdueRate'), cell: (p) => percent(p.overdue_rate), num: true },
          ],
          // Newest first in the table; the chart runs oldest to newest.
          [...pts].reverse(),
          { testid: 'trend-table', captionHidden: true },
        ),
      ),
    );
    destroyTrend = trendChart(
      chartBox,
      t('portfolio.trendChart'),
      pts.map((p) => p.business_date),
      [
        { label: t('portfolio.par30'), color: '#b3261e', values: pts.map((p) => p.par30) },
        { label: t('portfolio.par90'), color: '#6b2c91', dash: [6, 4], values: pts.map((p) => p.par90) },
        { label: t('portfolio.npl'), color: '#1d4e74', dash: [2, 3], values: pts.map((p) => p.npl_ratio) },
        { label: t('portfolio.overdueRate'), color: '#8a5a00', values: pts.map((p) => p.overdue_rate) },
      ],
    );
  }

  // --- Flows.
  const fFrom = h('input', { type: 'date', name: 'ffrom', required: true, value: state.ffrom, 'data-testid': 'flows-from' });
  const fTo = h('input', { type: 'date', name: 'fto', required: true, value: state.fto, 'data-testid': 'flows-to' });
  const flowsBody = h('div', {});
  root.appendChild(
    section(
      'portfolio.flows',
      'flows',
      rangeForm(fFrom, fTo, 'flows-show', () => {
        state.ffrom = fFrom.value;
        state.fto = fTo.value;
        remember();
        void loadFlows();
      }),
      csvButton(() => `/v1/portfolio/flows${qs({ from: state.ffrom, to: state.fto, format: 'csv' })}`, () => `flows-${state.ffrom}-${state.fto}.csv`, 'csv-flows'),
      flowsBody,
    ),
  );

  async function loadFlows(): Promise<void> {
    if (!isDate(state.ffrom) || !isDate(state.fto)) return;
    fill(flowsBody, loading());
    try {
      const flows = await get<Flows>(`/v1/portfolio/flows${qs({ from: state.ffrom, to: state.fto })}`);
      if (!ctx.alive()) return;
      renderFlows(flows);
    } catch (err) {
      if (!ctx.alive()) return;
      fill(flowsBody, problemBox(err));
    }
  }

  function renderFlows(f: Flows): void {
    const flowCell = (row: Flows['roll_rates'][number], k: FlowKey) => [
      h('span', { class: 'amt', 'data-testid': `flow-${row.bucket}-${k}` }, amount(row.amounts[k])),
      h('span', { class: 'rate', 'data-testid': `flow-rate-${row.bucket}-${k}` }, percent(row.rates ? row.rates[k] : null)),
    ];
    fill(
      flowsBody,
      h(
        'dl',
        { class: 'tiles' },
        tile(t('portfolio.cureRate'), percent(f.cure_rate), 'cure-rate', f.cure_rate ?? undefined),
        tile(t('portfolio.promiseKept'), percent(f.promise_kept_rate), 'promise-kept-rate', f.promise_kept_rate ?? undefined),
        tile(t('portfolio.delinquent'), amount(f.delinquent_balance), 'delinquent-balance'),
        tile(t('portfolio.cured'), amount(f.cured_balance), 'cured-balance'),
      ),
      table(
        t('portfolio.flowsCaption', { from: date(f.from), to: date(f.to) }),
        [
          { head: t('portfolio.bucket'), cell: (r) => r.bucket, rowHeader: true },
          { head: t('portfolio.loans'), cell: (r) => count(r.loans), num: true },
          { head: t('portfolio.balance'), cell: (r) => amount(r.balance), num: true, testid: (r) => `flow-${r.bucket}-balance` },
          ...FLOW_KEYS.map((k) => ({ head: t(`portfolio.${k}` as Key), cell: (r: Flows['roll_rates'][number]) => flowCell(r, k), num: true })),
        ],
        f.roll_rates,
        { testid: 'flows-table', rowAttrs: (r) => ({ 'data-testid': `flow-row-${r.bucket}` }) },
      ),
      h(
        'p',
        { 'data-testid': 'losses' },
        h('strong', {}, `${t('portfolio.losses')}: `),
        t('portfolio.lossesDetail', {
          principal: amount(f.losses.charged_off_principal),
          recovered: amount(f.losses.recovered),
          gross: percent(f.losses.gross_charge_off_rate),
          net: percent(f.losses.net_charge_off_rate),
          rate: percent(f.losses.recovery_rate),
        }),
      ),
    );
  }

  if (state.date) remember();
  await Promise.all([loadSummary(), loadTrend(), loadFlows()]);
}

/** A from–to date form; its Show button (test id `testid`) calls `show`. */
function rangeForm(from: HTMLInputElement, to: HTMLInputElement, testid: string, show: () => void): HTMLFormElement {
  return h(
    'form',
    {
      class: 'inline-form',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        show();
      },
    },
    field(t('common.from'), from),
    field(t('common.to'), to),
    h('button', { type: 'submit', 'data-testid': testid }, t('common.show')),
  );
}
