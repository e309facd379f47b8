// The loan card: schedule and allocation, payments, why (explanation), score, promises,
// contacts, actions, the next contact window; and the collector's forms.

import { get, post, qs, type Action, type Breakdown, type LoanView, type WindowChannel } from '../api';
import { fill, h, type Child } from '../dom';
import { amount, count, date, instant, isDate, percent, wallClock } from '../format';
import { statusWord, t, term } from '../i18n';
import { href, withQuery, type PageContext } from '../router';
import { may, role } from '../session';
import { facts, field, loading, problemBox, section, table } from '../ui';

const CHANNELS = ['voice_call', 'sms', 'email', 'push', 'im', 'letter', 'field_visit'];
const OUTCOMES = ['right_party_contact', 'promise_to_pay', 'connected', 'no_answer', 'delivered', 'wrong_number', 'refused', 'dispute_raised'];

export async function loanPage(ctx: PageContext): Promise<void> {
  const id = ctx.path[1];
  const fromQueue = ctx.query.get('from');
  const asOf = ctx.query.get('as_of');
  // The card: who and where the loan stands, then (for the roles that may) the forms, then the rest.
  const top = h('div', { 'data-testid': 'loan-card' }, loading());
  const forms = h('div', { class: 'forms' });
  const rest = h('div', {});
  fill(
    ctx.root,
    fromQueue ? h('p', {}, h('a', { href: href('queues', fromQueue) }, `← ${t('loan.back')}`)) : null,
    h('h1', { tabindex: '-1', 'data-testid': 'loan-title' }, t('loan.title', { id })),
    top,
    forms,
    rest,
  );
  const path = `/v1/loans/${encodeURIComponent(id)}`;

  async function load(): Promise<LoanView | null> {
    try {
      const view = await get<LoanView>(path + qs({ as_of: isDate(asOf) ? asOf : null }));
      if (!ctx.alive()) return null;
      renderCard(top, rest, view, id, fromQueue);
      return view;
    } catch (err) {
      if (ctx.alive()) fill(top, problemBox(err));
      return null;
    }
  }

  const view = await load();
  // The forms are for the roles that may record them; the others never see them.
  if (view && may.service(role())) {
    fill(forms, promiseForm(path, view.loan.currency, load), outcomeForm(path, load));
  }
}

/** Picks the date of the card's live assessment (the API's default is today's UTC date). */
function asOfForm(current: string, id: string, fromQueue: string | null): HTMLElement {
  const input = h('input', { type: 'date', name: 'as_of', required: true, value: current, 'data-testid': 'loan-as-of' });
  return h(
    'form',
    {
      class: 'inline-form as-of-form',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        if (isDate(input.value)) location.hash = withQuery(href('loans', id), { from: fromQueue, as_of: input.value });
      },
    },
    field(t('loan.asOfLabel'), input),
    h('button', { type: 'submit', class: 'secondary' }, t('common.show')),
  );
}

function breakdownTotal(b: Breakdown): string {
  return amount(b.total);
}

function renderCard(top: HTMLElement, rest: HTMLElement, v: LoanView, id: string, fromQueue: string | null): void {
  const a = v.assessment;
  const cur = v.loan.currency;
  const reversed = new Set(v.loan.reversals.map((r) => r.payment_id));
  const allocated = new Map(v.allocations.map((a) => [a.payment_id, a]));
  // What a payment paid, installment by installment: "#1 principal 1,000.00 · interest 50.00".
  const appliedTo = (id: string): string => {
    const allocation = allocated.get(id);
    if (!allocation) return '—';
    const parts = allocation.applied.map(({ seq, paid }) =>
      [`#${seq}`, ...(['penalty', 'fees', 'interest', 'principal'] as const)
        .filter((part) => !/^0(\.0+)?$/.test(paid[part]))
        .map((part) => `${t(`part.${part}`)} ${amount(paid[part])}`)].join(' '),
    );
    if (!/^0(\.0+)?$/.test(allocation.unapplied)) parts.push(`${t('loan.unapplied')} ${amount(allocation.unapplied)}`);
    return parts.join('; ') || '—';
  };
  const scheduled = new Map(v.loan.installments.map((i) => [i.seq, i]));
  const profile = v.borrower.profile ?? {};

  fill(
    top,
    v.write_off ? h('p', { class: 'problem', role: 'status' }, t('loan.writeOff', { on: date(v.write_off.on), reason: v.write_off.reason })) : null,
    h(
      'div',
      { class: 'grid-2' },
      section(
        'loan.borrower',
        'borrower',
        facts([
          [t('loan.name'), String(profile.name ?? '—'), 'borrower-name'],
          [t('loan.borrowerId'), v.borrower.id, 'borrower-id'],
          [t('loan.idNumber'), v.borrower.id_number ?? '—', 'id-number'],
          [t('loan.language'), String(profile.language ?? '—')],
          [t('loan.timeZone'), String(profile.time_zone ?? '—'), 'borrower-zone'],
        ]),
      ),
      section(
        'loan.standing',
        'standing',
        facts([
          [t('loan.status'), statusWord(v.standing.status), 'loan-status'],
          [t('loan.principal'), `${amount(v.standing.principal)} ${cur}`, 'loan-principal'],
          [t('loan.dpd'), count(v.standing.dpd), 'loan-dpd'],
          [t('loan.bucket'), v.standing.bucket || '—', 'loan-bucket'],
          [t('loan.stage'), term('stage', v.standing.stage), 'loan-stage'],
          [t('loan.queue'), v.standing.queue ?? '—', 'loan-queue'],
          [t('loan.classification'), v.standing.classification || '—'],
          [t('loan.assessedOn'), date(v.standing.assessed_on)],
        ]),
      ),
    ),
  );
  fill(
    rest,
    section(
      'loan.schedule',
      'schedule',
      asOfForm(a.as_of, id, fromQueue),
      h(
        'p',
        { 'data-testid': 'live-assessment' },
        t('loan.asOf', { date: date(a.as_of) }),
        ' — ',
        `${t('loan.overdue')}: ${breakdownTotal(a.overdue)} ${cur}; `,
        `${t('loan.outstanding')}: ${breakdownTotal(a.outstanding)} ${cur}; `,
        `${t('loan.nextDue')}: ${a.next_due ? `${date(a.next_due.date)} ${amount(a.next_due.amount)} ${cur}` : '—'}`,
      ),
      table(
        t('loan.scheduleCaption'),
        [
          { head: t('loan.seq'), cell: (i) => String(i.seq), rowHeader: true },
          { head: t('loan.dueDate'), cell: (i) => date(i.due_date) },
          { head: t('loan.status'), cell: (i) => h('span', { class: `status status-${i.status}` }, statusWord(i.status)), testid: (i) => `inst-status-${i.seq}` },
          { head: t('loan.duePrincipal'), cell: (i) => amount(scheduled.get(i.seq)?.principal ?? null), num: true },
          { head: t('loan.dueInterest'), cell: (i) => amount(scheduled.get(i.seq)?.interest ?? null), num: true },
          { head: t('loan.paidPrincipal'), cell: (i) => amount(i.paid.principal), num: true, testid: (i) => `inst-paid-principal-${i.seq}` },
          { head: t('loan.paidInterest'), cell: (i) => amount(i.paid.interest), num: true },
          { head: t('loan.paidFees'), cell: (i) => amount(i.paid.fees), num: true },
          { head: t('loan.paidPenalty'), cell: (i) => amount(i.paid.penalty), num: true },
          { head: t('loan.unpaid'), cell: (i) => amount(i.unpaid.total), num: true, testid: (i) => `inst-unpaid-${i.seq}` },
          { head: t('loan.daysLate'), cell: (i) => count(i.days_late), num: true },
          { head: t('loan.paidOffOn'), cell: (i) => date(i.paid_off_on) },
        ],
        a.installments,
        { testid: 'schedule-table' },
      ),
    ),
    section(
      'loan.payments',
      'payments',
      v.loan.payments.length
        ? table(
            t('loan.payments'),
            [
              { head: t('loan.paymentId'), cell: (p) => p.id, rowHeader: true },
              { head: t('loan.valueDate'), cell: (p) => date(p.value_date) },
              { head: t('loan.amount'), cell: (p) => `${amount(p.amount)} ${cur}`, num: true, testid: (p) => `payment-${p.id}` },
              { head: t('loan.reversed'), cell: (p) => (reversed.has(p.id) ? t('common.yes') : t('common.no')) },
              { head: t('loan.appliedTo'), cell: (p) => appliedTo(p.id), testid: (p) => `applied-${p.id}` },
            ],
            v.loan.payments,
            { testid: 'payments-table', captionHidden: true },
          )
        : h('p', { class: 'note' }, t('common.none')),
    ),
    section(
      'loan.explanation',
      'explanation',
      h(
        'ul',
        { class: 'explanation', 'data-testid': 'explanation' },
        a.explanation.map((r) => h('li', {}, h('code', {}, r.rule), ' — ', r.detail)),
      ),
    ),
    section(
      'loan.score',
      'score',
      facts([
        [t('loan.scoreValue'), String(a.score.value), 'score-value'],
        [t('loan.tier'), a.score.tier, 'score-tier'],
        [t('loan.pd'), `${percent(a.score.probability_of_default)} (${a.score.probability_of_default})`, 'score-pd'],
        [t('loan.model'), `${a.score.model.name} ${a.score.model.version}`],
      ]),
      a.score.reasons.length
        ? table(
            t('loan.reasons'),
            [
              { head: t('loan.reasonCode'), cell: (r) => h('code', {}, r.code), rowHeader: true },
              { head: t('loan.feature'), cell: (r) => r.feature },
              { head: t('loan.pointsLost'), cell: (r) => count(r.points_lost), num: true },
            ],
            a.score.reasons,
            { testid: 'score-reasons' },
          )
        : null,
    ),
    section(
      'loan.promises',
      'promises',
      v.promises.length
        ? table(
            t('loan.promises'),
            [
              { head: t('loan.promiseId'), cell: (p) => p.id, rowHeader: true },
              { head: t('loan.amount'), cell: (p) => `${amount(p.amount)} ${cur}`, num: true, testid: (p) => `promise-amount-${p.id}` },
              { head: t('loan.promiseDate'), cell: (p) => date(p.date), testid: (p) => `promise-date-${p.id}` },
              { head: t('loan.madeOn'), cell: (p) => date(p.made_on) },
              { head: t('loan.status'), cell: (p) => statusWord(p.status), testid: (p) => `promise-status-${p.id}` },
            ],
            v.promises,
            { testid: 'promises-table', captionHidden: true, rowAttrs: (p) => ({ 'data-testid': `promise-row-${p.id}` }) },
          )
        : h('p', { class: 'note' }, t('common.none')),
    ),
    section('loan.contacts', 'contacts', contacts(v)),
    section('loan.actions', 'actions', actions(v)),
    section('loan.window', 'window', contactWindow(v)),
  );
}

function contacts(v: LoanView): Child {
  if (!v.contacts.length) return h('p', { class: 'note' }, t('common.none'));
  return table(
    t('loan.contacts'),
    [
      { head: t('loan.at'), cell: (c) => instant(c.at), rowHeader: true },
      { head: t('loan.channel'), cell: (c) => term('channel', c.channel) },
      { head: t('loan.outcome'), cell: (c) => term('outcome', c.outcome) },
    ],
    v.contacts,
    { testid: 'contacts-table', captionHidden: true },
  );
}

/** What an action is about, in a line: a message's text, a task's queue, a stage change's move. */
function actionDetail(a: Action): string {
  const d = a.detail ?? {};
  const parts: string[] = [];
  if (typeof d.previous_stage === 'string' && typeof d.stage === 'string') parts.push(`${term('stage', d.previous_stage)} → ${term('stage', d.stage)}`);
  if (typeof d.text === 'string') parts.push(d.text);
  if (typeof d.not_before === 'string') parts.push(`${wallClock(d.not_before)} – ${wallClock(String(d.not_after ?? ''))}`);
  if (typeof d.explanation === 'string') parts.push(d.explanation);
  else if (Array.isArray(d.explanation)) {
    for (const e of d.explanation as { rule?: string; detail?: string }[]) if (e && e.detail) parts.push(e.detail);
  }
  return parts.join(' · ') || '—';
}

function actions(v: LoanView): Child {
  if (!v.actions.length) return h('p', { class: 'note' }, t('common.none'));
  return h(
    'div',
    { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': t('loan.actions') },
    table(
    t('loan.actions'),
    [
      { head: t('loan.kind'), cell: (a) => a.kind, rowHeader: true },
      { head: t('loan.channel'), cell: (a) => (a.channel ? term('channel', a.channel) : a.queue ?? '—') },
      { head: t('loan.rule'), cell: (a) => h('code', {}, a.rule) },
      { head: t('loan.status'), cell: (a) => statusWord(a.status) },
      { head: t('loan.businessDate'), cell: (a) => date(a.business_date) },
      { head: t('loan.detail'), cell: (a) => h('span', { class: 'detail' }, actionDetail(a)) },
    ],
    v.actions,
    { testid: 'actions-table', captionHidden: true, rowAttrs: (a) => ({ 'data-testid': `action-${a.id}` }) },
    ),
  );
}

function contactWindow(v: LoanView): Child | Child[] {
  const w = v.contact_window;
  if (!w.channels.length) return h('p', { class: 'note' }, t('common.none'));
  return [
    h('p', {}, t('loan.windowIntro', { zone: w.time_zone })),
    table(
      t('loan.window'),
      [
        { head: t('loan.channel'), cell: (c: WindowChannel) => term('channel', c.channel), rowHeader: true },
        {
          head: t('loan.notBefore'),
          cell: (c: WindowChannel) => `${wallClock(c.not_before)} ${w.time_zone}`,
          testid: (c: WindowChannel) => `window-${c.channel}`,
        },
        { head: t('loan.notAfter'), cell: (c: WindowChannel) => `${wallClock(c.not_after)} ${w.time_zone}` },
        { head: t('loan.rule'), cell: (c: WindowChannel) => h('code', {}, c.rule) },
      ],
      w.channels,
      { testid: 'window-table', captionHidden: true },
    ),
  ];
}

/** The answer of a form, announced: "Saved" or the problem's detail and field. */
function formStatus(): HTMLElement {
  return h('div', { class: 'form-status', 'aria-live': 'polite' });
}

function promiseForm(path: string, currency: string, reload: () => Promise<unknown>): HTMLElement {
  const newId = () => `PR-${new Date().toISOString().replace(/[-:TZ.]/g, '').slice(0, 14)}`;
  const idInput = h('input', { type: 'text', name: 'id', required: true, pattern: '[A-Za-z0-9._\\-]{1,64}', value: newId(), 'data-testid': 'promise-id' });
  const amountInput = h('input', { type: 'text', name: 'amount', required: true, inputmode: 'decimal', pattern: '[0-9]+(\\.[0-9]+)?', autocomplete: 'off', 'data-testid': 'promise-amount' });
  const dateInput = h('input', { type: 'date', name: 'date', required: true, 'data-testid': 'promise-date' });
  const madeOnInput = h('input', { type: 'date', name: 'made_on', 'data-testid': 'promise-made-on' });
  return recordForm(
    'promise',
    t('loan.recordPromise'),
    async () => {
      // The amount goes as typed: a decimal string, never a JS number.
      const body: Record<string, string> = { id: idInput.value.trim(), amount: amountInput.value.trim(), date: dateInput.value };
      if (madeOnInput.value) body.made_on = madeOnInput.value;
      const res = await post<{ new_actions: number }>(`${path}/promises`, body);
      idInput.value = newId();
      amountInput.value = '';
      return res.body.new_actions;
    },
    reload,
    [
      field(t('loan.promiseIdLabel'), idInput),
      field(t('loan.amountLabel', { currency }), amountInput, t('loan.amountHint')),
      field(t('loan.dateLabel'), dateInput),
      field(t('loan.madeOnLabel'), madeOnInput),
    ],
  );
}

/**
 * A card form recording something on the loan (test ids `NAME-form`, `NAME-submit`,
 * `NAME-saved`): `send` posts it and says how many actions it added; the card then reloads,
 * and a refusal shows the API's problem.
 */
function recordForm(name: string, title: string, send: () => Promise<number>, reload: () => Promise<unknown>, fields: HTMLElement[]): HTMLElement {
  const status = formStatus();
  const button = h('button', { type: 'submit', 'data-testid': `${name}-submit` }, t('loan.save'));
  return h(
    'form',
    {
      class: 'card',
      'data-testid': `${name}-form`,
      'aria-labelledby': `${name}-form-h`,
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        button.disabled = true;
        fill(status, t('loan.saving'));
        try {
          const added = await send();
          fill(status, h('p', { class: 'ok', 'data-testid': `${name}-saved` }, t('loan.saved', { count: added })));
          await reload();
        } catch (err) {
          fill(status, problemBox(err));
        } finally {
          button.disabled = false;
        }
      },
    },
    h('h2', { id: `${name}-form-h` }, title),
    ...fields,
    button,
    status,
  );
}

/** `datetime-local` text (the user's local wall clock) as an RFC 3339 instant in UTC. */
function toInstant(local: string): string {
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function localNow(): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function outcomeForm(path: string, reload: () => Promise<unknown>): HTMLElement {
  const channel = h('select', { name: 'channel', 'data-testid': 'outcome-channel' }, CHANNELS.map((c) => h('option', { value: c }, term('channel', c))));
  const at = h('input', { type: 'datetime-local', name: 'at', required: true, value: localNow(), 'data-testid': 'outcome-at' });
  const outcome = h('select', { name: 'outcome', 'data-testid': 'outcome-outcome' }, OUTCOMES.map((o) => h('option', { value: o }, term('outcome', o))));
  return recordForm(
    'outcome',
    t('loan.recordOutcome'),
    async () => {
      const res = await post<{ new_actions: number }>(`${path}/contact-outcomes`, { channel: channel.value, at: toInstant(at.value), outcome: outcome.value });
      return res.body.new_actions;
    },
    reload,
    [field(t('loan.channel'), channel), field(t('loan.atLabel'), at), field(t('loan.outcome'), outcome)],
  );
}
