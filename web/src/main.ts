import './style.css';
import { get, setUnauthorizedHandler, storedKey, storeKey, type Tenant } from './api';
import { fill, h } from './dom';
import { LOCALES, locale, setLocale, t, term, type Key, type Locale } from './i18n';
import { parseHash, type Page, type PageContext } from './router';
import { current, may, onSignIn, role, setCurrent } from './session';
import { auditPage } from './pages/audit';
import { jobsPage } from './pages/jobs';
import { loanPage } from './pages/loan';
import { portfolioPage } from './pages/portfolio';
import { queuePage, queuesPage } from './pages/queues';
import { signinPage } from './pages/signin';

const header = document.getElementById('app-header')!;
const main = document.getElementById('main')!;

let leaving: (() => void)[] = [];
let generation = 0;

function notFound(ctx: PageContext): void {
  fill(ctx.root, h('h1', { tabindex: '-1' }, t('notfound.title')), h('p', {}, t('notfound.body')));
}

function pageFor(path: string[]): Page {
  if (!current()) return signinPage;
  switch (path[0] ?? 'portfolio') {
    case 'signin':
      return signinPage;
    case 'portfolio':
      return portfolioPage;
    case 'queues':
      return path[1] ? queuePage : queuesPage;
    case 'loans':
      return path[1] ? loanPage : notFound;
    case 'jobs':
      return jobsPage;
    case 'audit':
      return auditPage;
    default:
      return notFound;
  }
}

function navItems(): { key: Key; hash: string; route: string; show: boolean }[] {
  const r = role();
  return [
    { key: 'nav.portfolio', hash: '#/portfolio', route: 'portfolio', show: true },
    { key: 'nav.queues', hash: '#/queues', route: 'queues', show: true },
    { key: 'nav.jobs', hash: '#/jobs', route: 'jobs', show: true },
    // The audit log is only for admins and auditors: the others don't get a link.
    { key: 'nav.audit', hash: '#/audit', route: 'audit', show: may.readAudit(r) },
  ];
}

function renderHeader(): void {
  const session = current();
  const { path } = parseHash();
  const active = path[0] === 'loans' ? 'queues' : (path[0] ?? 'portfolio');
  const langSelect = h(
    'select',
    {
      id: 'lang',
      'data-testid': 'lang',
      onchange: (ev: Event) => {
        setLocale((ev.target as HTMLSelectElement).value as Locale);
        document.title = t('app.title');
        renderHeader();
        route();
      },
    },
    LOCALES.map((l) => h('option', { value: l.code, selected: l.code === locale(), lang: l.code }, l.name)),
  );
  fill(
    header,
    h('a', { class: 'skip', href: '#main', onclick: skipToMain }, t('app.skip')),
    h(
      'div',
      { class: 'bar' },
      h('span', { class: 'brand' }, 'postloan'),
      session
        ? h(
            'nav',
            { 'aria-label': t('nav.label') },
            h(
              'ul',
              {},
              navItems()
                .filter((item) => item.show)
                .map((item) =>
                  h(
                    'li',
                    {},
                    h(
                      'a',
                      { href: item.hash, 'data-testid': `nav-${item.route}`, 'aria-current': item.route === active ? 'page' : undefined },
                      t(item.key),
                    ),
                  ),
                ),
            ),
          )
        : null,
      h(
        'div',
        { class: 'session' },
        session
          ? h(
              'p',
              { class: 'who' },
              h('span', { class: 'visually-hidden' }, `${t('session.tenant')}: `),
              h('span', { 'data-testid': 'tenant-name', title: session.tenant }, session.name),
              ' · ',
              h('span', { class: 'visually-hidden' }, `${t('session.role')}: `),
              h('span', { class: 'role-badge', 'data-testid': 'role', 'data-role': session.role }, term('role', session.role)),
            )
          : null,
        h('label', { for: 'lang', class: 'visually-hidden' }, t('lang.label')),
        langSelect,
        session ? h('button', { type: 'button', class: 'secondary', 'data-testid': 'signout', onclick: signOut }, t('session.signout')) : null,
      ),
    ),
  );
}

function skipToMain(ev: Event): void {
  ev.preventDefault();
  main.focus();
}

function signOut(): void {
  storeKey(null);
  setCurrent(null);
  location.hash = '#/signin';
  renderHeader();
  route();
}

/** Signs in with `tenant` (already checked against GET /v1/tenant) and goes on to `next`. */
function signedIn(tenant: Tenant, key: string, next: string): void {
  storeKey(key);
  setCurrent(tenant);
  renderHeader();
  if (location.hash === next) route();
  else location.hash = next;
}

function route(): void {
  for (const fn of leaving) fn();
  leaving = [];
  generation += 1;
  const mine = generation;
  const { path, query } = parseHash();
  renderHeader();
  const root = h('div', { class: 'page', 'data-page': path[0] ?? 'portfolio' });
  fill(main, root);
  const ctx: PageContext = {
    root,
    path,
    query,
    alive: () => generation === mine,
    onLeave: (fn) => leaving.push(fn),
  };
  const page = pageFor(path);
  Promise.resolve(page(ctx)).catch((err) => {
    if (ctx.alive()) root.appendChild(h('p', { class: 'problem', role: 'alert' }, String(err)));
  });
  // Keyboard and screen-reader users land on the new page's heading (each page writes its
  // <h1> before its first request); the sign-in page focuses its key field itself.
  if (moved && page !== signinPage) root.querySelector<HTMLElement>('h1')?.focus({ preventScroll: false });
  moved = true;
}

/** False until the first page is shown: the initial load leaves focus where the browser puts it. */
let moved = false;

async function start(): Promise<void> {
  setLocale(locale());
  document.title = t('app.title');
  onSignIn(signedIn);
  setUnauthorizedHandler(() => {
    storeKey(null);
    setCurrent(null);
    sessionStorage.setItem('postloan.expired', '1');
    location.hash = '#/signin';
  });
  const key = storedKey();
  if (key) {
    try {
      setCurrent(await get<Tenant>('/v1/tenant', { key }));
    } catch {
      storeKey(null);
    }
  }
  window.addEventListener('hashchange', route);
  route();
}

void start();
