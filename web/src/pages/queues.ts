// Queues: the collector queues, then one queue worst first, a page at a time.

import { get, qs, type QueuePage, type QueueSummary } from '../api';
import { fill, h } from '../dom';
import { amount, count } from '../format';
import { t, term } from '../i18n';
import { href, withQuery, type PageContext } from '../router';
import { field, loading, problemBox, table } from '../ui';

const STAGES = ['current', 'pre_due', 'early', 'mid', 'late', 'legal', 'write_off_review', 'recovery'];
const TIERS = ['A', 'B', 'C', 'D', 'E'];
const BUCKETS = ['M0', 'M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M6+'];
const PAGE = 50;

function openByName(): HTMLElement {
  const input = h('input', { type: 'text', name: 'queue', required: true, 'data-testid': 'queue-name' });
  return h(
    'form',
    {
      class: 'inline-form',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        if (input.value.trim()) location.hash = href('queues', input.value.trim());
      },
    },
    h('h2', {}, t('queues.open')),
    field(t('queues.name'), input),
    h('button', { type: 'submit' }, t('common.show')),
  );
}

export async function queuesPage(ctx: PageContext): Promise<void> {
  const body = h('div', {}, loading());
  fill(ctx.root, h('h1', { tabindex: '-1' }, t('queues.title')), h('p', {}, t('queues.intro')), body);
  try {
    const { items } = await get<{ items: QueueSummary[] }>('/v1/queues');
    if (!ctx.alive()) return;
    fill(
      body,
      items.length
        ? table(
            t('queues.title'),
            [
              { head: t('queues.queue'), cell: (q) => h('a', { href: href('queues', q.queue), 'data-testid': `queue-link-${q.queue}` }, q.queue), rowHeader: true },
              { head: t('queues.loans'), cell: (q) => count(q.loans), num: true, testid: (q) => `queue-loans-${q.queue}` },
              { head: t('queues.maxDpd'), cell: (q) => count(q.max_dpd), num: true },
            ],
            items,
            { testid: 'queues-table', captionHidden: true, rowAttrs: (q) => rowLink(href('queues', q.queue)) },
          )
        : h('p', { class: 'note' }, t('queues.empty')),
      openByName(),
    );
  } catch (err) {
    if (!ctx.alive()) return;
    fill(body, problemBox(err), openByName());
  }
}

/** A table row that opens `target` when clicked (its first cell holds the real link, for keyboards). */
function rowLink(target: string): Record<string, string> {
  return { class: 'row-link', 'data-href': target };
}

/** Rows of class row-link open their link on a click anywhere in the row. */
document.addEventListener('click', (ev) => {
  const el = ev.target as HTMLElement | null;
  if (!el || el.closest('a, button, input, select, textarea, summary')) return;
  const row = el.closest<HTMLElement>('tr.row-link');
  if (row?.dataset.href) location.hash = row.dataset.href;
});

/** The pending tasks by kind: "field_visit × 3, letter". */
function tasks(list: QueuePage['items'][number]['pending_tasks']): string {
  const by = new Map<string, number>();
  for (const task of list) by.set(task.kind, (by.get(task.kind) ?? 0) + 1);
  return [...by].map(([kind, n]) => (n > 1 ? `${kind} × ${n}` : kind)).join(', ') || '—';
}

/** A filter's choices: each value sent as the API names it, shown as `show` words it. */
function select(name: string, label: string, values: string[], chosen: string, show: (v: string) => string = (v) => v): HTMLElement {
  const el = h(
    'select',
    { name, 'data-testid': `filter-${name}` },
    h('option', { value: '' }, t('queues.any')),
    values.map((v) => h('option', { value: v, selected: v === chosen }, show(v))),
  );
  return field(label, el);
}

export async function queuePage(ctx: PageContext): Promise<void> {
  const name = ctx.path[1];
  const q = ctx.query;
  const filters = {
    stage: q.get('stage') ?? '',
    tier: q.get('tier') ?? '',
    bucket: q.get('bucket') ?? '',
    min_dpd: q.get('min_dpd') ?? '',
  };
  const cursor = q.get('cursor') ?? '';
  const base = href('queues', name);
  const minDpd = h('input', { type: 'number', name: 'min_dpd', min: '0', step: '1', inputmode: 'numeric', value: filters.min_dpd, 'data-testid': 'filter-min_dpd' });
  const form = h(
    'form',
    {
      class: 'inline-form filters',
      'aria-label': t('queues.filters'),
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        const data = new FormData(form);
        location.hash = withQuery(base, {
          stage: String(data.get('stage') ?? ''),
          tier: String(data.get('tier') ?? ''),
          bucket: String(data.get('bucket') ?? ''),
          min_dpd: String(data.get('min_dpd') ?? ''),
        });
      },
    },
    select('stage', t('queues.stage'), STAGES, filters.stage, (s) => term('stage', s)),
    select('tier', t('queues.tier'), TIERS, filters.tier),
    select('bucket', t('queues.bucket'), BUCKETS, filters.bucket),
    field(t('queues.minDpd'), minDpd),
    h('button', { type: 'submit', 'data-testid': 'filter-apply' }, t('common.apply')),
  );
  const body = h('div', {}, loading());
  fill(
    ctx.root,
    h('p', {}, h('a', { href: '#/queues' }, `← ${t('queues.back')}`)),
    h('h1', { tabindex: '-1', 'data-testid': 'queue-title' }, `${t('queues.queue')}: ${name}`),
    form,
    body,
  );
  try {
    const page = await get<QueuePage>(`/v1/queues/${encodeURIComponent(name)}${qs({ limit: PAGE, cursor, ...filters })}`);
    if (!ctx.alive()) return;
    const back = withQuery(base, filters);
    const loanHref = (id: string) => withQuery(href('loans', id), { from: `${name}` });
    fill(
      body,
      page.items.length
        ? table(
            `${t('queues.queue')}: ${name}`,
            [
              { head: t('queues.loan'), cell: (r) => h('a', { href: loanHref(r.loan_id), 'data-testid': `loan-link-${r.loan_id}` }, r.loan_id), rowHeader: true },
              { head: t('queues.borrower'), cell: (r) => r.borrower_id },
              { head: t('queues.dpd'), cell: (r) => count(r.dpd), num: true, testid: (r) => `dpd-${r.loan_id}` },
              { head: t('queues.bucket'), cell: (r) => r.bucket },
              { head: t('queues.stage'), cell: (r) => term('stage', r.stage) },
              { head: t('queues.tier'), cell: (r) => r.tier ?? '—' },
              { head: t('queues.overdue'), cell: (r) => `${amount(r.overdue_amount)} ${r.currency}`, num: true, testid: (r) => `overdue-${r.loan_id}` },
              { head: t('queues.tasks'), cell: (r) => tasks(r.pending_tasks) },
            ],
            page.items,
            { testid: 'queue-table', captionHidden: true, rowAttrs: (r) => ({ ...rowLink(loanHref(r.loan_id)), 'data-testid': `queue-row-${r.loan_id}` }) },
          )
        : h('p', { class: 'note' }, t('queues.pageEmpty')),
      h(
        'nav',
        { class: 'pager', 'aria-label': t('queues.queue') },
        cursor ? h('a', { href: back, 'data-testid': 'first-page' }, t('queues.first')) : null,
        page.next_cursor ? h('a', { href: withQuery(base, { ...filters, cursor: page.next_cursor }), 'data-testid': 'next-page' }, `${t('queues.next')} →`) : null,
      ),
    );
  } catch (err) {
    if (!ctx.alive()) return;
    fill(body, problemBox(err));
  }
}
