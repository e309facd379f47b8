// Formatting of the API's values. Amounts and ratios arrive as exact decimal strings
// ("12345.60", "0.7143") and are only ever rearranged as strings here: never parsed
// to a JS number, so the browser can't round them.

import { locale } from './i18n';

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

interface Separators {
  group: string;
  decimal: string;
}

const separatorCache = new Map<string, Separators>();

/** The locale's grouping and decimal separators (read off Intl once per locale). */
function separators(loc: string): Separators {
  let seps = separatorCache.get(loc);
  if (!seps) {
    // Only the separator characters are taken from this sample; no API value goes through it.
    const parts = new Intl.NumberFormat(loc).formatToParts(12345.5);
    seps = {
      group: parts.find((p) => p.type === 'group')?.value ?? ',',
      decimal: parts.find((p) => p.type === 'decimal')?.value ?? '.',
    };
    separatorCache.set(loc, seps);
  }
  return seps;
}

/** Groups the integer digits of a digit string by threes: "1234567" → "1,234,567". */
function groupDigits(digits: string, group: string): string {
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += group;
    out += digits[i];
  }
  return out;
}

/**
 * An amount as the API wrote it, with the locale's digit grouping: "12345.60" → "12,345.60"
 * (en and zh-CN alike). Every digit is kept; anything that is not a decimal string is shown as is.
 */
export function amount(value: string | null | undefined, loc: string = locale()): string {
  if (value === null || value === undefined) return '—';
  const m = DECIMAL.exec(value.trim());
  if (!m) return value;
  const [, sign, int, frac] = m;
  const seps = separators(loc);
  return sign + groupDigits(int, seps.group) + (frac !== undefined ? seps.decimal + frac : '');
}

/**
 * A ratio as a percent, by moving the decimal point two places: "0.7143" → "71.43%",
 * "1.0000" → "100.00%", "0.05" → "5%". Null (a zero denominator) is "—".
 */
export function percent(value: string | null | undefined, loc: string = locale()): string {
  if (value === null || value === undefined) return '—';
  const m = DECIMAL.exec(value.trim());
  if (!m) return value;
  const [, sign, int, frac = ''] = m;
  const padded = frac.padEnd(2, '0');
  let whole = (int + padded.slice(0, 2)).replace(/^0+(?=\d)/, '');
  const rest = padded.slice(2);
  const seps = separators(loc);
  if (whole === '') whole = '0';
  return sign + groupDigits(whole, seps.group) + (rest ? seps.decimal + rest : '') + '%';
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * A business date `YYYY-MM-DD` in the locale's words, formatted in UTC so that no time
 * zone can move it to another day.
 */
export function date(value: string | null | undefined, loc: string = locale()): string {
  if (!value) return '—';
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return value;
  let fmt = dateFormats.get(loc);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat(loc, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });
    dateFormats.set(loc, fmt);
  }
  return fmt.format(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))));
}

const instantFormats = new Map<string, Intl.DateTimeFormat>();

/** An RFC 3339 instant in the viewer's own time zone, with the zone named. */
export function instant(value: string | null | undefined, loc: string = locale()): string {
  if (!value) return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  let fmt = instantFormats.get(loc);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat(loc, { dateStyle: 'short', timeStyle: 'medium' });
    instantFormats.set(loc, fmt);
  }
  return fmt.format(d);
}

/**
 * A wall-clock instant with its offset ("2026-12-05T08:00:00+08:00") shown as the wall-clock
 * text it carries — "Dec 5, 2026 08:00 (UTC+08:00)" — without converting it to another zone.
 */
export function wallClock(value: string | null | undefined, loc: string = locale()): string {
  if (!value) return '—';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(value);
  if (!m) return value;
  const offset = m[3] === 'Z' ? '+00:00' : m[3];
  return `${date(m[1], loc)} ${m[2]} (UTC${offset})`;
}

/** A whole-number count, grouped: 100000 → "100,000". */
export function count(value: number | null | undefined, loc: string = locale()): string {
  if (value === null || value === undefined) return '—';
  return new Intl.NumberFormat(loc, { maximumFractionDigits: 0 }).format(value);
}

// Business-date arithmetic (on calendar days, in UTC: no time zone involved).

export function addDays(ymd: string, days: number): string {
  const [y, m, d] = ymd.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** The same day `months` months before (clamped to the month's last day). */
export function monthsBefore(ymd: string, months: number): string {
  const [y, m, d] = ymd.split('-').map(Number);
  const first = new Date(Date.UTC(y, m - 1 - months, 1));
  const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  first.setUTCDate(Math.min(d, last));
  return first.toISOString().slice(0, 10);
}

/** Today's UTC date, `YYYY-MM-DD`. */
export function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

export function isDate(value: string | null | undefined): value is string {
  return !!value && /^\d{4}-\d{2}-\d{2}$/.test(value);
}
