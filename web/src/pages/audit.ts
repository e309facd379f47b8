// Audit: the hash chain's verification and the latest entries (admins and auditors only).

import { get, type AuditEntry, type AuditVerification } from '../api';
import { fill, h } from '../dom';
import { count, instant } from '../format';
import { t, term } from '../i18n';
import type { PageContext } from '../router';
import { may, role } from '../session';
import { facts, loading, problemBox, section, table } from '../ui';

/** The most entries the page shows (and fetches). */
const LATEST = 100;

export async function auditPage(ctx: PageContext): Promise<void> {
  const r = role();
  const heading = h('h1', { tabindex: '-1' }, t('audit.title'));
  if (!may.readAudit(r)) {
    // Refused here, before any request: the role may not read the log.
    fill(
      ctx.root,
      heading,
      h('div', { class: 'problem', role: 'alert', 'data-testid': 'audit-refused' }, h('p', {}, t('audit.refused', { role: term('role', r ?? '?') }))),
    );
    return;
  }
  const verifyBody = h('div', {}, loading());
  const entriesBody = h('div', {}, loading());
  fill(
    ctx.root,
    heading,
    section('audit.verify', 'verify', verifyBody),
    section('audit.latest', 'entries', h('p', {}, t('audit.latestIntro')), entriesBody),
  );

  let v: AuditVerification;
  try {
    v = await get<AuditVerification>('/v1/audit/verify');
  } catch (err) {
    if (!ctx.alive()) return;
    fill(verifyBody, problemBox(err));
    fill(entriesBody);
    return;
  }
  if (!ctx.alive()) return;
  fill(
    verifyBody,
    h(
      'p',
      { class: v.intact ? 'ok big' : 'problem big', 'data-testid': 'audit-intact', 'data-intact': String(v.intact) },
      v.intact ? `✔ ${t('audit.intact')}` : `✘ ${t('audit.broken', { seq: v.broken_at?.seq ?? '?', reason: v.broken_at?.reason ?? '' })}`,
    ),
    facts([
      [t('audit.entriesChecked'), count(v.entries), 'audit-entries-checked'],
      [t('audit.head'), v.head ? `#${v.head.seq} · ${instant(v.head.at)}` : '—', 'audit-head'],
      [t('audit.headHash'), v.head ? h('code', { class: 'hash' }, v.head.hash) : '—'],
    ]),
  );
  if (!v.head) {
    fill(entriesBody, h('p', { class: 'note' }, t('common.none')));
    return;
  }
  // The latest entries, newest first: the ones before the head's successor.
  try {
    const { entries } = await get<{ entries: AuditEntry[] }>(`/v1/audit?before=${v.head.seq + 1}&limit=${LATEST}`);
    if (!ctx.alive()) return;
    fill(
      entriesBody,
      table(
        t('audit.latest'),
        [
          { head: t('audit.seq'), cell: (e) => String(e.seq), rowHeader: true },
          { head: t('audit.at'), cell: (e) => h('span', { class: 'nowrap' }, instant(e.at)) },
          { head: t('audit.actor'), cell: (e) => e.actor },
          { head: t('audit.action'), cell: (e) => h('code', {}, e.action), testid: (e) => `audit-action-${e.seq}` },
          { head: t('audit.entity'), cell: (e) => e.entity },
          { head: t('audit.detail'), cell: (e) => h('code', { class: 'one-line', title: summarize(e.detail, 2000) }, summarize(e.detail, 140)) },
          { head: t('audit.hash'), cell: (e) => h('code', { class: 'nowrap', title: e.hash }, e.hash.slice(0, 12) + '…') },
        ],
        entries,
        { testid: 'audit-table', captionHidden: true, rowAttrs: (e) => ({ 'data-testid': `audit-entry-${e.seq}` }) },
      ),
    );
  } catch (err) {
    if (!ctx.alive()) return;
    fill(entriesBody, problemBox(err));
  }
}

function summarize(detail: unknown, max: number): string {
  const text = JSON.stringify(detail) ?? '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
