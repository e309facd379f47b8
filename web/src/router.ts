// Hash routing (#/portfolio, #/queues/NAME, #/loans/L1, …): the server serves only real
// files, so every page lives behind the one index.html.

export interface PageContext {
  /** The page's container (inside `<main>`). */
  root: HTMLElement;
  /** The route's segments after `#/`, decoded. */
  path: string[];
  query: URLSearchParams;
  /** False once the user has left the page: late answers are then dropped. */
  alive: () => boolean;
  /** Runs when the user leaves the page (timers, charts). */
  onLeave: (fn: () => void) => void;
}

export type Page = (ctx: PageContext) => void | Promise<void>;

export function parseHash(hash: string = location.hash): { path: string[]; query: URLSearchParams } {
  const raw = hash.replace(/^#\/?/, '');
  const [p, q = ''] = raw.split('?', 2);
  const path = p
    .split('/')
    .filter(Boolean)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  return { path, query: new URLSearchParams(q) };
}

/** The hash for a route: href('loans', 'L 1') → "#/loans/L%201". */
export function href(...segments: string[]): string {
  return '#/' + segments.map(encodeURIComponent).join('/');
}

export function withQuery(hash: string, params: Record<string, string | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `${hash}?${s}` : hash;
}

/** Records the page's state in the address without re-rendering it. */
export function replaceQuery(params: Record<string, string | null | undefined>): void {
  const { path } = parseHash();
  history.replaceState(null, '', withQuery(href(...path), params));
}
