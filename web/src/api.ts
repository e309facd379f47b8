// The one way the workbench talks to the API: same origin, `/v1/...`, the signed-in
// key as a bearer token. Error answers are RFC 9457 problem bodies, kept whole.

export type Role = 'admin' | 'collector' | 'viewer' | 'auditor';

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  field?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
    readonly path: string,
  ) {
    super(problem.detail || problem.title || `HTTP ${status}`);
  }
}

const KEY = 'postloan.key';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, key);
}

/** Called when the API answers 401 for the stored key (the key was revoked or is wrong). */
let onUnauthorized: (problem: Problem) => void = () => {};
export function setUnauthorizedHandler(handler: (problem: Problem) => void): void {
  onUnauthorized = handler;
}

async function problemOf(res: Response): Promise<Problem> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as Partial<Problem>;
    if (body && typeof body === 'object') return { ...body, status: body.status ?? res.status };
  } catch {
    // not JSON
  }
  return { status: res.status, title: res.statusText, detail: text.slice(0, 300) || res.statusText };
}

interface RequestOptions {
  method?: string;
  body?: unknown;
  key?: string;
}

async function send(path: string, opts: RequestOptions = {}): Promise<Response> {
  const key = opts.key ?? storedKey();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: opts.method ?? 'GET',
    headers,
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    cache: 'no-store',
  });
  if (!res.ok) {
    const problem = await problemOf(res);
    if (res.status === 401 && !opts.key) onUnauthorized(problem);
    throw new ApiError(res.status, problem, path);
  }
  return res;
}

/** GETs or POSTs `path` and answers the parsed JSON with its HTTP status. */
export async function request<T>(path: string, opts: RequestOptions = {}): Promise<{ status: number; body: T }> {
  const res = await send(path, opts);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

export async function get<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  return (await request<T>(path, opts)).body;
}

export async function post<T>(path: string, body?: unknown): Promise<{ status: number; body: T }> {
  return request<T>(path, { method: 'POST', body });
}

/**
 * Downloads `path` (a `format=csv` route) with the bearer header and saves it as
 * `filename` through a Blob: a plain link could not carry the header.
 */
export async function downloadCsv(path: string, filename: string): Promise<void> {
  const res = await send(path);
  const blob = new Blob([await res.text()], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A query string of the set parameters: qs({ a: '1', b: '' }) → "?a=1". */
export function qs(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// The shapes of the answers the workbench reads (see the OpenAPI document, GET /v1/openapi.json).

export type Decimal = string;

export interface Tenant {
  tenant: string;
  name: string;
  role: Role;
}

export interface Job {
  id: number;
  business_date: string;
  status: 'running' | 'completed';
  processed: number;
  total: number;
  actions: number;
  failures: number;
  started_at: string;
  finished_at: string | null;
  failed_loans?: { loan_id: string; reason: string }[];
  claims?: { total: number; done: number; held: number; workers: number; by_worker: { worker: string; claims: number }[] } | null;
}

export interface AgingRow {
  bucket: string;
  loans: number;
  outstanding_principal: Decimal;
  share: Decimal | null;
}

export interface Portfolio {
  business_date: string;
  aging: AgingRow[];
  totals: { loans: number; outstanding_principal: Decimal; overdue_amount: Decimal };
  par30: Decimal | null;
  par90: Decimal | null;
  npl_ratio: Decimal | null;
  overdue_rate: Decimal | null;
  overdue_rate_by_count: Decimal | null;
  written_off: { loans: number; charged_off_principal: Decimal; recovered: Decimal; recovery_rate: Decimal | null };
  restructured: { loans: number };
  re_aged: { loans: number };
}

export interface TrendPoint {
  business_date: string;
  loans: number;
  outstanding_principal: Decimal;
  overdue_amount: Decimal;
  par30: Decimal | null;
  par90: Decimal | null;
  npl_ratio: Decimal | null;
  overdue_rate: Decimal | null;
}

export interface Trend {
  from: string;
  to: string;
  points: TrendPoint[];
}

export type FlowKey = 'to_next' | 'worse' | 'same' | 'better' | 'closed' | 'written_off' | 'unranked';
export type FlowSet = Record<FlowKey, Decimal>;

export interface Flows {
  from: string;
  to: string;
  roll_rates: { bucket: string; loans: number; balance: Decimal; amounts: FlowSet; rates: FlowSet | null }[];
  delinquent_balance: Decimal;
  cured_balance: Decimal;
  cure_rate: Decimal | null;
  promise_kept_rate: Decimal | null;
  losses: {
    charged_off_principal: Decimal;
    recovered: Decimal;
    gross_charge_off_rate: Decimal | null;
    net_charge_off_rate: Decimal | null;
    recovery_rate: Decimal | null;
  };
}

export interface QueueSummary {
  queue: string;
  loans: number;
  max_dpd: number;
}

export interface QueueItem {
  loan_id: string;
  borrower_id: string;
  dpd: number;
  bucket: string;
  stage: string;
  tier: string | null;
  overdue_amount: Decimal;
  currency: string;
  pending_tasks: { id: number; kind: string; rule: string; business_date: string }[];
}

export interface QueuePage {
  queue: string;
  items: QueueItem[];
  next_cursor: string | null;
}

export interface Breakdown {
  principal: Decimal;
  interest: Decimal;
  fees: Decimal;
  penalty: Decimal;
  total: Decimal;
}

export interface Action {
  id: number;
  loan_id: string;
  business_date: string;
  kind: string;
  channel: string | null;
  queue: string | null;
  rule: string;
  status: string;
  created_at: string;
  detail: Record<string, unknown> | null;
}

/** The next window of one channel (`GET /v1/loans/{id}` `contact_window`). */
export interface WindowChannel {
  channel: string;
  not_before: string;
  not_after: string;
  rule: string;
  action_id: number;
}

export interface LoanView {
  loan: {
    id: string;
    currency: string;
    installments: { seq: number; due_date: string; principal: Decimal; interest: Decimal; fees?: Decimal }[];
    payments: { id: string; value_date: string; amount: Decimal }[];
    reversals: { payment_id: string }[];
  };
  disbursed_on: string;
  borrower: {
    id: string;
    id_number: string | null;
    profile: { name?: string; language?: string; time_zone?: string; [k: string]: unknown };
  };
  standing: {
    id: string;
    borrower_id: string;
    currency: string;
    principal: Decimal;
    status: string;
    dpd: number;
    bucket: string;
    classification: string;
    stage: string;
    queue: string | null;
    tier: string | null;
    score: number | null;
    outstanding_principal: Decimal;
    overdue_amount: Decimal;
    assessed_on: string | null;
  };
  promises: { id: string; amount: Decimal; date: string; made_on: string; status: string }[];
  assessment: {
    as_of: string;
    dpd: number;
    bucket: string;
    classification: string;
    overdue: Breakdown;
    outstanding: Breakdown;
    next_due: { date: string; amount: Decimal } | null;
    installments: {
      seq: number;
      due_date: string;
      status: string;
      paid: Breakdown;
      unpaid: Breakdown;
      paid_off_on: string | null;
      days_late: number;
    }[];
    explanation: { rule: string; detail: string }[];
    score: {
      model: { name: string; version: string };
      value: number;
      probability_of_default: Decimal;
      tier: string;
      reasons: { code: string; feature: string; points_lost: number }[];
    };
  };
  write_off: { on: string; reason: string } | null;
  allocations: Allocation[];
  contacts: { channel: string; at: string; outcome: string }[];
  actions: Action[];
  contact_window: { time_zone: string; channels: WindowChannel[] };
}

/** One payment as the allocation applied it (`GET /v1/loans/{id}` `allocations`). */
export interface Allocation {
  payment_id: string;
  value_date: string;
  amount: Decimal;
  applied: { seq: number; paid: Breakdown }[];
  unapplied: Decimal;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  entity: string;
  detail: unknown;
  prev_hash: string;
  hash: string;
}

export interface AuditVerification {
  intact: boolean;
  entries: number;
  head: { seq: number; hash: string; at: string } | null;
  broken_at?: { seq: number; reason: string };
}
