// The workbench in a real browser: headless Debian Chromium driven by playwright-core.
//
// Self-contained: it seeds a tenant of its own (README "A day in the life of the loan book",
// through POST /v1/events), then signs in as admin, collector, viewer and auditor and checks
// what each page shows against the hand-worked figures and against the API.
//
//   POSTLOAN_URL             the host serving the workbench at / and the API at /v1 (required)
//   POSTLOAN_PLATFORM_TOKEN  the platform token, to create the tenant (required)
//   POSTLOAN_SCREENSHOTS     a folder for the PNGs (created; default: a new temp folder)
//   CHROMIUM                 the browser (default /usr/bin/chromium)
//
// Prints a line per check and exits 1 at the first failure.

import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BASE = (process.env.POSTLOAN_URL ?? '').replace(/\/$/, '');
const PLATFORM = process.env.POSTLOAN_PLATFORM_TOKEN ?? '';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.POSTLOAN_SCREENSHOTS || mkdtempSync(join(tmpdir(), 'postloan-workbench-'));
const WAIT = 15_000;
const started = Date.now();

if (!BASE || !PLATFORM) {
  console.error('workbench test: set POSTLOAN_URL (e.g. http://127.0.0.1:3000) and POSTLOAN_PLATFORM_TOKEN');
  process.exit(2);
}
mkdirSync(SHOTS, { recursive: true });

// --- Reporting -----------------------------------------------------------------------------

let failed = false;
function ok(what) {
  console.log(`ok   ${what}`);
}
class CheckFailed extends Error {}
function fail(what) {
  throw new CheckFailed(what);
}
function expectEqual(actual, expected, what) {
  if (actual !== expected) fail(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  ok(`${what} = ${JSON.stringify(actual)}`);
}
function expectTrue(cond, what) {
  if (!cond) fail(what);
  ok(what);
}

// --- The display rule the workbench follows, restated here as the test's own oracle --------
// Amounts: the API's decimal string, integer digits grouped by threes with ",", every digit kept.
// Ratios: the decimal point moved two places right, "%" appended (0.5556 → 55.56%); null → "—".

function shown(amount) {
  if (amount === null || amount === undefined) return '—';
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount);
  if (!m) return amount;
  return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (m[3] !== undefined ? `.${m[3]}` : '');
}
function shownPercent(ratio) {
  if (ratio === null || ratio === undefined) return '—';
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(ratio);
  if (!m) return ratio;
  const frac = (m[3] ?? '').padEnd(2, '0');
  const whole = (m[2] + frac.slice(0, 2)).replace(/^0+(?=\d)/, '');
  const rest = frac.slice(2);
  return m[1] + whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (rest ? `.${rest}` : '') + '%';
}

// --- The API, for seeding and for the figures the pages must equal ---------------------------

async function api(method, path, key, body) {
  const res = await fetch(BASE + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // CSV or empty
  }
  return { status: res.status, json, text };
}
async function must(method, path, key, body, statuses = [200, 201]) {
  const res = await api(method, path, key, body);
  if (!statuses.includes(res.status)) fail(`${method} ${path} answered ${res.status}: ${res.text.slice(0, 300)}`);
  return res;
}

const TENANT = `wb${Date.now()}`;
let ADMIN = '';
const KEYS = {};

async function event(id, type, occurredAt, data) {
  await must('POST', '/v1/events', ADMIN, { id, tenant: TENANT, type, occurred_at: occurredAt, data });
}
async function book(id, on, amount, dues) {
  await event(`book-${id}`, 'loan.created', `${on}T02:00:00Z`, {
    id,
    borrower: {
      id: `B-${id}`,
      id_number: '110101199003071234',
      profile: {
        name: '张伟',
        language: 'zh-CN',
        time_zone: 'Asia/Shanghai',
        // The README's SMS number, and (beyond the README) a phone for calls and an address
        // for letters and field visits: without them the contact rules hold every collector
        // task back (contact.no-address) and no loan stands in a queue. The figures of the
        // portfolio and the flows do not depend on them.
        contact_points: [
          { channel: 'sms', address: '+8613800138000' },
          { channel: 'voice_call', address: '+8613800138000' },
          { channel: 'letter', address: '北京市东城区东长安街1号' },
          { channel: 'field_visit', address: '北京市东城区东长安街1号' },
        ],
      },
    },
    currency: 'CNY',
    disbursed_on: on,
    installments: dues.map((due, i) => ({ seq: i + 1, due_date: due, principal: amount, interest: '0' })),
  });
}
/** Closes up to `date`, calling again while the answer is 202 (work remains). */
async function close(date) {
  for (let i = 0; i < 100; i++) {
    const res = await must('POST', `/v1/jobs/close-of-business?date=${date}`, ADMIN, undefined, [200, 202]);
    if (res.status === 200) {
      const job = res.json.jobs.at(-1);
      for (let j = 0; j < 100; j++) {
        const shown = await must('GET', `/v1/jobs/${job.id}`, ADMIN);
        if (shown.json.status === 'completed') return shown.json;
        await new Promise((r) => setTimeout(r, 200));
      }
      fail(`run ${job.id} of ${date} did not complete`);
    }
  }
  fail(`close of ${date} did not finish`);
}

async function seed() {
  const created = await must('POST', '/v1/tenants', PLATFORM, {
    id: TENANT,
    name: 'Workbench Test Lending',
    settings: { contact: { escalation: { high_risk_tiers: [] } } },
  });
  ADMIN = created.json.admin_key;
  KEYS.admin = ADMIN;
  for (const role of ['collector', 'viewer', 'auditor']) {
    KEYS[role] = (await must('POST', '/v1/api-keys', ADMIN, { role, label: `wb-${role}` })).json.key;
  }
  await book('L1', '2025-12-15', '1000.00', ['2026-01-15', '2026-02-15', '2026-03-15']);
  await book('L2', '2025-12-20', '500.00', ['2026-01-20', '2026-02-20']);
  await book('L3', '2025-12-10', '2000.00', ['2026-01-10']);
  await book('L4', '2025-12-25', '400.00', ['2026-01-25', '2026-02-25']);
  await event('e5', 'payment.posted', '2026-01-15T03:00:00Z', { loan_id: 'L1', id: 'P1', value_date: '2026-01-15', amount: '1000.00' });
  await event('e6', 'payment.posted', '2026-01-10T03:00:00Z', { loan_id: 'L3', id: 'P3', value_date: '2026-01-10', amount: '2000.00' });
  await close('2026-02-01');
  await event('e7', 'promise.made', '2026-02-02T03:00:00Z', { loan_id: 'L4', id: 'PR4', amount: '400.00', date: '2026-02-05', made_on: '2026-02-02' });
  await event('e8', 'promise.made', '2026-02-03T03:00:00Z', { loan_id: 'L2', id: 'PR2', amount: '300.00', date: '2026-02-10', made_on: '2026-02-03' });
  await event('e9', 'payment.posted', '2026-02-10T03:00:00Z', { loan_id: 'L2', id: 'P2a', value_date: '2026-02-10', amount: '300.00' });
  await event('e10', 'payment.posted', '2026-02-25T03:00:00Z', { loan_id: 'L2', id: 'P2b', value_date: '2026-02-25', amount: '700.00' });
  await close('2026-03-01');
  ok(`seeded tenant ${TENANT}: L1–L4, closes of 2026-02-01 and 2026-03-01`);
}

// --- The browser -------------------------------------------------------------------------------

const requests = [];
let browser;

const cspViolations = [];

async function newPage(role) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.on('request', (req) => requests.push({ role, url: req.url(), method: req.method() }));
  page.on('pageerror', (err) => {
    console.log(`     (page error as ${role}: ${err.message})`);
  });
  // The site's Content-Security-Policy allows no inline style or script: a page that needs
  // one is a failure, not a console line.
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      cspViolations.push(`${role}: ${message.text()}`);
    }
  });
  return page;
}

async function signIn(page, role) {
  await page.goto(`${BASE}/#/signin`);
  await page.getByTestId('key-input').fill(KEYS[role]);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('role').waitFor();
  expectEqual(await page.getByTestId('role').getAttribute('data-role'), role, `${role}: the header shows the role`);
  expectEqual(await page.getByTestId('tenant-name').textContent(), 'Workbench Test Lending', `${role}: the header shows the tenant`);
}

async function text(page, testid) {
  const el = page.getByTestId(testid);
  await el.waitFor();
  return (await el.textContent()).trim();
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Hash navigation within the loaded app (the server serves only real files). */
async function go(page, hash) {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
}

// --- The checks ---------------------------------------------------------------------------------

const HAND_WORKED = {
  M0: ['0', '0', '0.00%'],
  M1: ['1', '2,000.00', '71.43%'],
  M2: ['1', '800.00', '28.57%'],
  M3: ['0', '0', '0.00%'],
  M4: ['0', '0', '0.00%'],
  M5: ['0', '0', '0.00%'],
  M6: ['0', '0', '0.00%'],
  'M6+': ['0', '0', '0.00%'],
};

async function adminPortfolio(page) {
  await signIn(page, 'admin');
  // A fresh load of the first page (the key stays in the tab's sessionStorage): the headline,
  // the aging table and the flows all shown.
  const t0 = Date.now();
  await page.goto(`${BASE}/#/portfolio`);
  await Promise.all(['par30', 'aging-table', 'cure-rate'].map((id) => page.getByTestId(id).waitFor()));
  const ms = Date.now() - t0;
  expectTrue(ms < 1000, `portfolio: the first page renders in ${ms} ms (under 1 s)`);
  // The default date is the newest completed close in GET /v1/jobs: 2026-03-01 here, unless a
  // cron tick of the nightly component closed later dates for this tenant meanwhile.
  const latest = (await must('GET', '/v1/jobs?limit=20', ADMIN)).json.items.find((j) => j.status === 'completed').business_date;
  expectEqual(await page.getByTestId('portfolio-date').inputValue(), latest, 'portfolio: the date defaults to the latest completed close');
  if (latest !== '2026-03-01') {
    console.log(`     (the nightly closed up to ${latest}: showing 2026-03-01 by its address)`);
    await go(page, '#/portfolio?date=2026-03-01');
    await page.getByTestId('as-of').filter({ hasText: 'Mar 1, 2026' }).waitFor();
  }

  const summary = (await must('GET', '/v1/portfolio?date=2026-03-01', ADMIN)).json;
  for (const row of summary.aging) {
    const [loans, principal, share] = HAND_WORKED[row.bucket] ?? fail(`unexpected bucket ${row.bucket}`);
    const got = [await text(page, `aging-loans-${row.bucket}`), await text(page, `aging-principal-${row.bucket}`), await text(page, `aging-share-${row.bucket}`)];
    expectEqual(got.join(' | '), [loans, principal, share].join(' | '), `portfolio 2026-03-01: ${row.bucket} loans | principal | share (hand-worked)`);
    expectEqual(got.join(' | '), [String(row.loans), shown(row.outstanding_principal), shownPercent(row.share)].join(' | '), `portfolio 2026-03-01: ${row.bucket} as the API answers`);
  }
  expectEqual(await text(page, 'par30'), '28.57%', 'portfolio: PAR30 (hand-worked 0.2857)');
  for (const [testid, field] of [['par30', 'par30'], ['par90', 'par90'], ['npl-ratio', 'npl_ratio'], ['overdue-rate', 'overdue_rate'], ['overdue-rate-count', 'overdue_rate_by_count']]) {
    expectEqual(await text(page, testid), shownPercent(summary[field]), `portfolio: ${testid} equals the API's ${field} ${JSON.stringify(summary[field])}`);
  }
  expectEqual(await text(page, 'totals-principal'), '2,800.00', 'portfolio: the book holds 2,800.00');
  expectEqual(await text(page, 'totals-principal'), shown(summary.totals.outstanding_principal), 'portfolio: total principal as the API answers');

  // Roll rates between the two closes (the page's default: a month before the date).
  expectEqual(await page.getByTestId('flows-from').inputValue(), '2026-02-01', 'flows: from defaults to a month before');
  const flows = (await must('GET', '/v1/portfolio/flows?from=2026-02-01&to=2026-03-01', ADMIN)).json;
  expectEqual(await text(page, 'cure-rate'), '55.56%', 'flows 2026-02-01→2026-03-01: cure rate 0.5556 shown as 55.56%');
  expectEqual(await text(page, 'promise-kept-rate'), '50.00%', 'flows: promise-kept rate 0.5000 shown as 50.00%');
  expectEqual(await text(page, 'cure-rate'), shownPercent(flows.cure_rate), 'flows: cure rate as the API answers');
  expectEqual(await text(page, 'promise-kept-rate'), shownPercent(flows.promise_kept_rate), 'flows: promise-kept rate as the API answers');
  for (const row of flows.roll_rates) {
    expectEqual(await text(page, `flow-${row.bucket}-balance`), shown(row.balance), `flows: ${row.bucket} balance at 2026-02-01`);
  }

  // The trend, one point per completed close.
  const trend = await api('GET', '/v1/portfolio/trend?from=2025-12-01&to=2026-03-01', ADMIN);
  if (trend.status === 200) {
    const last = trend.json.points.at(-1);
    expectEqual(last.business_date, '2026-03-01', 'trend: the API ends at the latest close');
    await page.getByTestId('trend-chart').waitFor();
    const cell = page.getByTestId('trend-par30-2026-03-01');
    expectEqual((await cell.textContent()).trim(), shownPercent(last.par30), 'trend: the 2026-03-01 point\'s PAR30 as the API answers');
  } else {
    fail(`GET /v1/portfolio/trend answered ${trend.status}`);
  }

  // The aging CSV, downloaded with the bearer header, is the API's.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv-aging').click()]);
  const csv = readFileSync(await download.path(), 'utf8');
  const apiCsv = (await must('GET', '/v1/portfolio?date=2026-03-01&format=csv', ADMIN)).text;
  expectEqual(csv, apiCsv, 'portfolio: the CSV download is the API\'s CSV');
  expectEqual(download.suggestedFilename(), 'portfolio-2026-03-01.csv', 'portfolio: the CSV file name');
  await shot(page, '01-portfolio-admin');
}

async function adminClose(page) {
  await go(page, '#/jobs');
  await page.getByTestId('jobs-table').waitFor();
  await shot(page, '02-jobs-before');
  await page.getByTestId('close-date').fill('2026-03-02');
  await page.getByTestId('start-close').click();
  const row = page.locator('tr[data-date="2026-03-02"]');
  await row.waitFor();
  const id = (await row.getAttribute('data-testid')).replace('job-', '');
  const bar = page.getByTestId(`progress-${id}`);
  await page.waitForFunction((testid) => document.querySelector(`[data-testid="${testid}"]`)?.getAttribute('aria-valuenow') === '100', `progress-${id}`, { timeout: 30_000 });
  expectEqual(await bar.getAttribute('aria-valuenow'), '100', `jobs: the progress bar of run ${id} (2026-03-02) reaches 100`);
  expectEqual((await bar.textContent()).trim(), '100%', 'jobs: the bar reads 100%');
  expectEqual(await page.getByTestId(`status-${id}`).locator('[data-status]').getAttribute('data-status'), 'completed', 'jobs: the run is completed');
  await page.getByTestId('close-done').waitFor();
  const job = (await must('GET', `/v1/jobs/${id}`, ADMIN)).json;
  expectEqual(`${job.status} ${job.processed}/${job.total}`, `completed ${job.total}/${job.total}`, 'jobs: the API agrees the run completed');
  expectEqual(await text(page, `processed-${id}`), `${job.processed} / ${job.total}`, 'jobs: processed / total as the API answers');
  await shot(page, '03-jobs-closed');
}

async function collector(page) {
  await signIn(page, 'collector');
  expectTrue((await page.getByTestId('nav-audit').count()) === 0, 'collector: no audit link');
  const l4 = (await must('GET', '/v1/loans/L4', KEYS.collector)).json;
  const queue = l4.standing.queue;
  expectTrue(!!queue, `collector: L4 stands in queue ${queue}`);
  await go(page, '#/queues');
  await page.getByTestId(`queue-link-${queue}`).waitFor();
  await shot(page, '04-queues');
  await page.getByTestId(`queue-link-${queue}`).click();
  await page.getByTestId('queue-table').waitFor();
  await page.getByTestId('queue-row-L4').waitFor();
  ok(`collector: queue ${queue} lists L4`);
  // The filters go to the API: a floor above every loan's DPD empties the page, the bucket finds L4 again.
  await page.getByTestId('filter-min_dpd').fill('1000');
  await page.getByTestId('filter-apply').click();
  await page.getByText('No loan in this queue matches.').waitFor();
  ok('collector: the min_dpd filter 1000 leaves the queue empty');
  await page.getByTestId('filter-min_dpd').fill('');
  await page.getByTestId('filter-bucket').selectOption('M2');
  await page.getByTestId('filter-apply').click();
  await page.getByTestId('queue-row-L4').waitFor();
  const filtered = requests.filter((r) => r.role === 'collector' && r.url.includes(`/v1/queues/${queue}?`)).at(-1);
  expectTrue(filtered && new URL(filtered.url).searchParams.get('bucket') === 'M2' && new URL(filtered.url).searchParams.get('limit') === '50', `collector: the bucket filter M2 finds L4 (${filtered && new URL(filtered.url).search})`);
  await shot(page, '05-queue');
  // Keyboard: the row's link takes focus and Enter opens the card.
  await page.getByTestId('loan-link-L4').focus();
  await page.keyboard.press('Enter');
  await page.getByTestId('id-number').waitFor();
  expectEqual(await text(page, 'id-number'), '110101199003071234', 'collector: the loan card shows the identity number unmasked');
  expectEqual(await text(page, 'borrower-name'), '张伟', 'collector: and the borrower\'s name');

  await page.getByTestId('promise-id').fill('PR-WB-1');
  await page.getByTestId('promise-amount').fill('400.00');
  await page.getByTestId('promise-date').fill('2026-03-05');
  await page.getByTestId('promise-made-on').fill('2026-03-02');
  await page.getByTestId('promise-submit').click();
  await Promise.race([page.getByTestId('promise-saved').waitFor(), page.getByTestId('promise-form').getByTestId('problem').waitFor().then(async () => fail(`promise refused: ${await page.getByTestId('promise-form').getByTestId('problem').textContent()}`))]);
  await page.getByTestId('promise-row-PR-WB-1').waitFor();
  expectEqual(await text(page, 'promise-amount-PR-WB-1'), '400.00 CNY', 'collector: the card, refreshed, lists the promise');
  const after = (await must('GET', '/v1/loans/L4', ADMIN)).json;
  const promise = after.promises.find((p) => p.id === 'PR-WB-1');
  expectTrue(!!promise, 'API: GET /v1/loans/L4 has the promise PR-WB-1');
  expectEqual(`${promise.amount} by ${promise.date}`, '400.00 by 2026-03-05', 'API: the promise\'s amount and date');

  // A contact outcome from the card, seen in the API's contact history.
  await page.getByTestId('outcome-channel').selectOption('voice_call');
  await page.getByTestId('outcome-at').fill('2026-03-02T10:30');
  await page.getByTestId('outcome-outcome').selectOption('no_answer');
  await page.getByTestId('outcome-submit').click();
  await Promise.race([page.getByTestId('outcome-saved').waitFor(), page.getByTestId('outcome-form').getByTestId('problem').waitFor().then(async () => fail(`outcome refused: ${await page.getByTestId('outcome-form').getByTestId('problem').textContent()}`))]);
  const withContact = (await must('GET', '/v1/loans/L4', ADMIN)).json;
  expectTrue(Array.isArray(withContact.contacts) && withContact.contacts.some((c) => c.channel === 'voice_call' && c.outcome === 'no_answer'), 'API: the contact outcome is in L4\'s contacts');
  await page.getByTestId('contacts-table').waitFor();
  await shot(page, '06-loan-collector');

  // L2's payments, allocated by hand: 2 × 500.00 principal due 01-20 and 02-20. P2a, 300.00
  // on 02-10, goes to the oldest unpaid installment, #1; P2b, 700.00 on 02-25, clears #1's
  // remaining 200.00 and then #2's 500.00.
  await go(page, '#/loans/L2?as_of=2026-03-01');
  await page.getByTestId('applied-P2b').waitFor();
  expectEqual(await text(page, 'applied-P2a'), '#1 principal 300.00', 'collector: L2\'s card says what P2a paid');
  expectEqual(await text(page, 'applied-P2b'), '#1 principal 200.00; #2 principal 500.00', 'collector: and what P2b paid');
  await go(page, '#/jobs');
  await page.getByTestId('jobs-table').waitFor();
  expectTrue((await page.getByTestId('start-close').count()) === 0, 'collector: no start-close button on the jobs page');
}

async function viewer(page) {
  await signIn(page, 'viewer');
  expectTrue((await page.getByTestId('nav-audit').count()) === 0, 'viewer: no audit link in the navigation');
  await go(page, '#/loans/L4');
  const id = await text(page, 'id-number');
  expectTrue(id !== '110101199003071234' && id.includes('*'), `viewer: the identity number is masked (${id})`);
  expectTrue(!(await text(page, 'borrower-name')).includes('张伟'), 'viewer: the name is masked');
  await page.getByTestId('schedule-table').waitFor();
  expectTrue((await page.getByTestId('promise-form').count()) === 0, 'viewer: no promise form');
  expectTrue((await page.getByTestId('outcome-form').count()) === 0, 'viewer: no contact-outcome form');
  await shot(page, '07-loan-viewer');
  await go(page, '#/audit');
  const refusal = await text(page, 'audit-refused');
  expectTrue(/viewer/.test(refusal), `viewer: #/audit is refused with an explanation ("${refusal}")`);
  await page.waitForTimeout(300);
  const auditFetches = requests.filter((r) => r.role === 'viewer' && new URL(r.url).pathname.startsWith('/v1/audit'));
  expectEqual(auditFetches.length, 0, 'viewer: no request to /v1/audit was made');
  await shot(page, '08-audit-viewer');
}

async function auditor(page) {
  await signIn(page, 'auditor');
  await page.getByTestId('nav-audit').click();
  await page.getByTestId('audit-intact').waitFor();
  const verify = (await must('GET', '/v1/audit/verify', KEYS.auditor)).json;
  expectEqual(await page.getByTestId('audit-intact').getAttribute('data-intact'), 'true', 'auditor: the audit page shows the chain verified');
  expectEqual(verify.intact, true, 'API: GET /v1/audit/verify is intact');
  await page.getByTestId('audit-table').waitFor();
  const rows = await page.locator('[data-testid^="audit-entry-"]').count();
  expectTrue(rows > 0 && rows <= 100, `auditor: the latest entries are listed (${rows})`);
  const newest = await page.locator('[data-testid^="audit-entry-"]').first().getAttribute('data-testid');
  expectEqual(newest, `audit-entry-${verify.head.seq}`, 'auditor: the newest entry is the chain\'s head');
  await go(page, '#/loans/L1');
  expectTrue((await text(page, 'id-number')).includes('*'), 'auditor: the identity number is masked');
  await go(page, '#/audit');
  await page.getByTestId('audit-table').waitFor();
  await shot(page, '09-audit');
}

async function chinese(page) {
  await go(page, '#/portfolio?date=2026-03-01');
  await page.getByTestId('aging-principal-M1').waitFor();
  await page.getByTestId('lang').selectOption('zh-CN');
  await page.locator('h1', { hasText: '资产组合' }).waitFor();
  ok('zh-CN: the portfolio heading reads 资产组合');
  expectEqual(await text(page, 'nav-queues'), '催收队列', 'zh-CN: the navigation is in Chinese');
  expectEqual(await page.evaluate(() => document.documentElement.lang), 'zh-CN', 'zh-CN: <html lang>');
  await page.getByTestId('cure-rate').waitFor();
  expectEqual(await text(page, 'aging-principal-M1'), '2,000.00', 'zh-CN: the amount stays exact');
  expectEqual(await text(page, 'cure-rate'), '55.56%', 'zh-CN: the cure rate');
  expectTrue((await text(page, 'as-of')).includes('2026年3月1日'), 'zh-CN: the business date in Chinese (2026年3月1日)');
  await shot(page, '10-portfolio-zh');
  await page.getByTestId('lang').selectOption('en');
}

function limits() {
  const over = requests.filter((r) => {
    const limit = new URL(r.url).searchParams.get('limit');
    return limit !== null && Number(limit) > 100;
  });
  expectEqual(over.length, 0, 'every page fetched at most 100 rows a request');
  const lists = requests.filter((r) => new URL(r.url).pathname === '/v1/loans');
  expectEqual(lists.length, 0, 'no page listed the whole book (GET /v1/loans)');
}

async function main() {
  console.log(`workbench test against ${BASE}; screenshots in ${SHOTS}`);
  const root = await fetch(`${BASE}/`);
  if (!root.ok || !(await root.text()).includes('id="main"')) fail(`GET ${BASE}/ does not serve the workbench (${root.status})`);
  ok('GET / serves the workbench');
  await seed();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Playwright gives each launch a fresh temporary profile (user-data-dir).
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let page;
  try {
    page = await newPage('admin');
    await adminPortfolio(page);
    await adminClose(page);
    const adminPage = page;
    page = await newPage('collector');
    await collector(page);
    page = await newPage('viewer');
    await viewer(page);
    page = await newPage('auditor');
    await auditor(page);
    page = adminPage;
    await chinese(page);
    limits();
    expectEqual(cspViolations.join('\n'), '', 'no page broke the Content-Security-Policy');
  } catch (err) {
    failed = true;
    if (page) await shot(page, 'failure').catch(() => {});
    throw err;
  } finally {
    await browser.close();
  }
}

main()
  .then(() => {
    console.log(`all checks passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  })
  .catch((err) => {
    console.error(`FAIL ${err instanceof CheckFailed ? err.message : err?.stack ?? err}`);
    console.error(`(screenshots in ${SHOTS})`);
    process.exitCode = 1;
    void failed;
  });
