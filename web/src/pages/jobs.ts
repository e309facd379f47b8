// Jobs: the close-of-business runs with live progress, and (admins) starting a close.

import { ApiError, get, post, type Job } from '../api';
import { fill, h } from '../dom';
import { addDays, count, date, instant, isDate, todayUtc } from '../format';
import { statusWord, t } from '../i18n';
import type { PageContext } from '../router';
import { may, role } from '../session';
import { field, loading, problemBox, section, table } from '../ui';

const POLL_MS = 1000;

/** Whole percent done, from the run's integer counters (counts, not money). */
function percentDone(job: Job): number {
  if (job.status === 'completed') return 100;
  if (!job.total) return 0;
  return Math.min(100, Math.floor((job.processed * 100) / job.total));
}

function progressBar(job: Job): HTMLElement {
  const pct = percentDone(job);
  const fill = h('span', { class: 'progress-fill' });
  // Through the CSSOM: the site's Content-Security-Policy allows no inline style attribute.
  fill.style.width = `${pct}%`;
  return h(
    'div',
    {
      class: `progress${job.status === 'completed' ? ' done' : ''}`,
      role: 'progressbar',
      'aria-valuemin': 0,
      'aria-valuemax': 100,
      'aria-valuenow': pct,
      'aria-valuetext': `${pct}% (${count(job.processed)} / ${count(job.total)})`,
      'aria-label': t('jobs.progressOf', { id: job.id }),
      'data-testid': `progress-${job.id}`,
    },
    h('span', { class: 'progress-track' }, fill),
    h('span', { class: 'progress-text' }, `${pct}%`),
  );
}

export async function jobsPage(ctx: PageContext): Promise<void> {
  const jobs = new Map<number, Job>();
  const listBody = h('div', {}, loading());
  const message = h('div', { 'aria-live': 'polite', 'data-testid': 'close-message' });

  fill(ctx.root, h('h1', { tabindex: '-1' }, t('jobs.title')), h('p', {}, t('jobs.intro')));

  // Admins start a close; the other roles never see the control.
  let dateInput: HTMLInputElement | null = null;
  if (may.startClose(role())) {
    dateInput = h('input', { type: 'date', name: 'date', required: true, 'data-testid': 'close-date' });
    const button = h('button', { type: 'submit', 'data-testid': 'start-close' }, t('jobs.startButton'));
    const form = h(
      'form',
      {
        class: 'inline-form',
        onsubmit: async (ev: Event) => {
          ev.preventDefault();
          const d = dateInput!.value;
          if (!isDate(d)) return;
          button.disabled = true;
          try {
            await startClose(d);
          } finally {
            button.disabled = false;
          }
        },
      },
      field(t('jobs.date'), dateInput),
      button,
    );
    ctx.root.appendChild(section('jobs.start', 'start-close', form, message));
  }
  ctx.root.appendChild(h('section', { class: 'card', 'aria-label': t('jobs.title') }, listBody));

  function render(): void {
    const rows = [...jobs.values()].sort((a, b) => (a.business_date < b.business_date ? 1 : a.business_date > b.business_date ? -1 : b.id - a.id));
    if (!rows.length) {
      fill(listBody, h('p', { class: 'note' }, t('jobs.empty')));
      return;
    }
    // Each poll rebuilds the table: the failure lists open stay open, and the focus stays on
    // the summary it was on, for keyboard and screen-reader users.
    const open = new Set([...listBody.querySelectorAll<HTMLDetailsElement>('details[open]')].map((d) => d.dataset.job));
    const focused = document.activeElement instanceof HTMLElement && listBody.contains(document.activeElement) ? document.activeElement.dataset.job : undefined;
    fill(
      listBody,
      table(
        t('jobs.title'),
        [
          { head: t('jobs.id'), cell: (j) => String(j.id), rowHeader: true },
          { head: t('jobs.businessDate'), cell: (j) => date(j.business_date), testid: (j) => `job-date-${j.id}` },
          { head: t('jobs.status'), cell: (j) => h('span', { class: `status status-${j.status}`, 'data-status': j.status }, statusWord(j.status)), testid: (j) => `status-${j.id}` },
          { head: t('jobs.progress'), cell: (j) => progressBar(j) },
          { head: t('jobs.processed'), cell: (j) => `${count(j.processed)} / ${count(j.total)}`, num: true, testid: (j) => `processed-${j.id}` },
          { head: t('jobs.actions'), cell: (j) => count(j.actions), num: true },
          { head: t('jobs.failures'), cell: (j) => failures(j), num: true, testid: (j) => `failures-${j.id}` },
          {
            head: t('jobs.claims'),
            cell: (j) =>
              j.claims
                ? [
                    t('jobs.claimsValue', { done: count(j.claims.done), total: count(j.claims.total), held: count(j.claims.held), workers: count(j.claims.workers) }),
                    ...j.claims.by_worker.map((w) => ` · ${w.worker}: ${count(w.claims)}`),
                  ].join('')
                : '—',
            num: true,
            testid: (j) => `claims-${j.id}`,
          },
          {
            head: t('jobs.when'),
            cell: (j) => [h('span', { class: 'nowrap block' }, instant(j.started_at)), h('span', { class: 'nowrap block muted' }, j.finished_at ? instant(j.finished_at) : '…')],
          },
        ],
        rows,
        { testid: 'jobs-table', captionHidden: true, rowAttrs: (j) => ({ 'data-testid': `job-${j.id}`, 'data-date': j.business_date }) },
      ),
    );
    for (const d of listBody.querySelectorAll<HTMLDetailsElement>('details')) d.open = open.has(d.dataset.job);
    if (focused) listBody.querySelector<HTMLElement>(`summary[data-job="${focused}"]`)?.focus();
  }

  function failures(j: Job): HTMLElement | string {
    if (!j.failures) return count(j.failures);
    const list = j.failed_loans ?? [];
    return h(
      'details',
      { 'data-job': String(j.id) },
      h('summary', { 'data-job': String(j.id) }, count(j.failures)),
      list.length ? h('ul', {}, list.map((f) => h('li', {}, `${f.loan_id}: ${f.reason}`))) : null,
    );
  }

  function merge(job: Job): void {
    const before = jobs.get(job.id);
    // The list's items carry no claims; keep those a detail answer brought.
    jobs.set(job.id, { ...before, ...job, claims: job.claims ?? before?.claims, failed_loans: job.failed_loans ?? before?.failed_loans });
  }

  async function detail(id: number): Promise<void> {
    const job = await get<Job>(`/v1/jobs/${id}`);
    merge(job);
  }

  async function loadList(): Promise<void> {
    try {
      const { items } = await get<{ items: Job[] }>('/v1/jobs?limit=20');
      if (!ctx.alive()) return;
      for (const j of items) merge(j);
      // The newest run and every running one with their claims (one page of detail each).
      const wanted = items.filter((j, i) => i === 0 || j.status === 'running').map((j) => j.id);
      await Promise.all(wanted.map(detail));
    } catch (err) {
      if (!ctx.alive()) return;
      fill(listBody, problemBox(err));
      return;
    }
    if (!ctx.alive()) return;
    render();
    if (dateInput && !dateInput.value) {
      const latest = [...jobs.values()].filter((j) => j.status === 'completed').map((j) => j.business_date).sort().pop();
      dateInput.value = latest ? addDays(latest, 1) : addDays(todayUtc(), -1);
    }
  }

  // While a run is running, poll it.
  let timer: number | undefined;
  const poll = async () => {
    const running = [...jobs.values()].filter((j) => j.status === 'running');
    if (running.length) {
      try {
        await Promise.all(running.map((j) => detail(j.id)));
        if (ctx.alive()) render();
      } catch {
        // the next tick tries again
      }
    }
    if (ctx.alive()) timer = window.setTimeout(poll, POLL_MS);
  };
  ctx.onLeave(() => window.clearTimeout(timer));

  /**
   * POST /v1/jobs/close-of-business?date=D: the answer lists the runs the call touched
   * (oldest first) and is 202 while work remains, so the close is driven by calling again
   * until 200, while the poll shows each run's progress.
   */
  async function startClose(d: string): Promise<void> {
    fill(message, t('jobs.starting', { done: 0, total: '…' }));
    try {
      for (;;) {
        const res = await post<{ jobs: Job[] }>(`/v1/jobs/close-of-business?date=${d}`);
        if (!ctx.alive()) return;
        for (const j of res.body.jobs) merge(j);
        await Promise.all(res.body.jobs.map((j) => detail(j.id).catch(() => {})));
        if (!ctx.alive()) return;
        render();
        const done = res.body.jobs.filter((j) => j.status === 'completed').length;
        if (res.status === 200) {
          fill(message, h('p', { class: 'ok', 'data-testid': 'close-done' }, t('jobs.started', { date: date(d) })));
          break;
        }
        fill(message, t('jobs.starting', { done, total: res.body.jobs.length }));
      }
      await loadList();
    } catch (err) {
      if (!ctx.alive()) return;
      fill(message, problemBox(err instanceof ApiError ? err : String(err)));
    }
  }

  await loadList();
  void poll();
}
