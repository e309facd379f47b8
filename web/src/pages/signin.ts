import { ApiError, get, type Tenant } from '../api';
import { fill, h } from '../dom';
import { t } from '../i18n';
import type { PageContext } from '../router';
import { signIn } from '../session';
import { field } from '../ui';

export function signinPage(ctx: PageContext): void {
  const { path } = ctx;
  // After signing in, go where the user was headed (or to the portfolio).
  const target = path.length && path[0] !== 'signin' ? location.hash : '#/portfolio';
  const input = h('input', {
    type: 'password',
    name: 'key',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    'data-testid': 'key-input',
  });
  const message = h('div', { 'aria-live': 'polite', 'data-testid': 'signin-message' });
  const button = h('button', { type: 'submit', 'data-testid': 'signin-submit' }, t('signin.submit'));
  if (sessionStorage.getItem('postloan.expired')) {
    sessionStorage.removeItem('postloan.expired');
    message.appendChild(h('p', { class: 'problem', role: 'alert' }, t('signin.expired', { detail: '401' })));
  }
  const form = h(
    'form',
    {
      class: 'signin card',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const key = input.value.trim();
        if (!key) return;
        button.disabled = true;
        fill(message, h('p', {}, t('signin.working')));
        try {
          const tenant = await get<Tenant>('/v1/tenant', { key });
          signIn(tenant, key, target);
        } catch (err) {
          const detail = err instanceof ApiError ? err.problem.detail || err.problem.title || String(err.status) : String(err);
          fill(message, h('p', { class: 'problem', role: 'alert' }, t('signin.failed', { detail })));
          button.disabled = false;
          input.focus();
        }
      },
    },
    h('p', {}, t('signin.intro')),
    field(t('signin.key'), input),
    button,
    message,
  );
  fill(ctx.root, h('h1', {}, t('signin.title')), form);
  input.focus();
}
