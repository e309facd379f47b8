// Who is signed in, and what their role lets the workbench show.

import type { Role, Tenant } from './api';

let session: Tenant | null = null;

export function current(): Tenant | null {
  return session;
}

export function setCurrent(tenant: Tenant | null): void {
  session = tenant;
}

export function role(): Role | null {
  return session?.role ?? null;
}

/** What each role may use, as docs/book.md "Tenants and keys" gives it. */
export const may = {
  /** GET /v1/audit, GET /v1/audit/verify */
  readAudit: (r: Role | null) => r === 'admin' || r === 'auditor',
  /** POST /v1/jobs/close-of-business */
  startClose: (r: Role | null) => r === 'admin',
  /** POST /v1/loans/{id}/promises and /contact-outcomes */
  service: (r: Role | null) => r === 'admin' || r === 'collector',
};

let signInHandler: (tenant: Tenant, key: string, next: string) => void = () => {};

/** Set by the app shell: what happens once a key is accepted. */
export function onSignIn(handler: (tenant: Tenant, key: string, next: string) => void): void {
  signInHandler = handler;
}

export function signIn(tenant: Tenant, key: string, next: string): void {
  signInHandler(tenant, key, next);
}
