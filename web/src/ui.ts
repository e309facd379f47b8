// Building blocks shared by the pages: sections, tables, figures, problem messages.

import { ApiError, downloadCsv } from './api';
import { h, type Child } from './dom';
import { t, term, type Key } from './i18n';
import { role } from './session';

/** A problem answer (or any failure) explained in words; a 403 says the role may not. */
export function problemBox(err: unknown): HTMLElement {
  if (err instanceof ApiError) {
    const p = err.problem;
    const detail = p.detail || p.title || String(err.status);
    const text =
      err.status === 403
        ? t('common.forbidden', { role: term('role', role() ?? '?'), detail })
        : t('common.error', { status: err.status, detail });
    return h(
      'div',
      { class: 'problem', role: 'alert', 'data-testid': 'problem', 'data-status': err.status },
      h('p', {}, text),
      p.field ? h('p', { 'data-testid': 'problem-field' }, t('common.field', { field: p.field })) : null,
    );
  }
  return h('div', { class: 'problem', role: 'alert', 'data-testid': 'problem' }, h('p', {}, String(err)));
}

export function loading(): HTMLElement {
  return h('p', { class: 'note', 'aria-live': 'polite' }, t('common.loading'));
}

export function section(titleKey: Key, id: string, ...children: (Child | Child[])[]): HTMLElement {
  const headingId = `${id}-h`;
  return h('section', { class: 'card', id, 'aria-labelledby': headingId }, h('h2', { id: headingId }, t(titleKey)), ...children);
}

export interface Column<T> {
  head: string;
  cell: (row: T) => Child | Child[];
  num?: boolean;
  testid?: (row: T) => string;
  /** The row's header cell (`<th scope="row">`). */
  rowHeader?: boolean;
}

/** A data table with a caption, column headers (`scope="col"`) and a row header column. */
export function table<T>(
  caption: string,
  columns: Column<T>[],
  rows: T[],
  opts: { rowAttrs?: (row: T) => Record<string, string>; foot?: Child[]; testid?: string; captionHidden?: boolean } = {},
): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { 'data-testid': opts.testid },
      h('caption', { class: opts.captionHidden ? 'visually-hidden' : undefined }, caption),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : undefined }, c.head)))),
      h(
        'tbody',
        {},
        rows.map((row) =>
          h(
            'tr',
            opts.rowAttrs ? opts.rowAttrs(row) : {},
            columns.map((c) =>
              h(
                c.rowHeader ? 'th' : 'td',
                {
                  scope: c.rowHeader ? 'row' : undefined,
                  class: c.num ? 'num' : undefined,
                  'data-testid': c.testid ? c.testid(row) : undefined,
                },
                c.cell(row),
              ),
            ),
          ),
        ),
      ),
      opts.foot ? h('tfoot', {}, h('tr', {}, opts.foot)) : null,
    ),
  );
}

/** A key figure: its name above its value. */
export function tile(label: string, value: string, testid: string, sub?: string): HTMLElement {
  return h(
    'div',
    { class: 'tile' },
    h('dt', {}, label),
    h('dd', {}, h('span', { class: 'tile-value', 'data-testid': testid }, value), sub ? h('span', { class: 'tile-sub' }, sub) : null),
  );
}

/** A description list of label/value pairs. */
export function facts(pairs: [string, Child | Child[], string?][]): HTMLElement {
  return h(
    'dl',
    { class: 'facts' },
    pairs.map(([label, value, testid]) => h('div', {}, h('dt', {}, label), h('dd', { 'data-testid': testid }, value))),
  );
}

/** A button that downloads a CSV route with the bearer header. */
export function csvButton(path: () => string, filename: () => string, testid: string): HTMLElement {
  const status = h('span', { class: 'csv-status', 'aria-live': 'polite' });
  const button = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      'data-testid': testid,
      onclick: async () => {
        status.textContent = '';
        try {
          await downloadCsv(path(), filename());
        } catch (err) {
          status.textContent = t('common.csvFailed', { detail: err instanceof Error ? err.message : String(err) });
        }
      },
    },
    t('common.csv'),
  );
  return h('span', { class: 'csv' }, button, status);
}

/** A labelled input: `<label for>` and the control, in a field wrapper. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintId = hint ? `${id}-hint` : undefined;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('span', { class: 'hint', id: hintId }, hint) : null);
}
