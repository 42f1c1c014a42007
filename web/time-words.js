// Dates in the user's own language: "3 minutes ago" and "27 Nov 2026".

const UNITS = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

function parse(value) {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "3 minutes ago", "yesterday", "now": the largest unit that fits, rounded. */
export function relativeTime(value, { now = new Date(), locale } = {}) {
  const date = parse(value);
  if (!date) return "";
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  const seconds = (date.getTime() - now.getTime()) / 1000;
  // Under 45 seconds reads as "now": a countdown of seconds is noise for a status.
  if (Math.abs(seconds) < 45) return format.format(0, "second");
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(0, "second");
}

/** The calendar date alone, in the user's locale ("27 Nov 2026"). */
export function calendarDate(value, { locale } = {}) {
  const date = parse(value);
  return date ? new Intl.DateTimeFormat(locale, { dateStyle: "medium" }).format(date) : "";
}

/** Date and time, for a tooltip under a relative time. */
export function fullDateTime(value, { locale } = {}) {
  const date = parse(value);
  return date
    ? new Intl.DateTimeFormat(locale, { dateStyle: "long", timeStyle: "short" }).format(date)
    : "";
}

/** A countdown as a clock: "4:05", "0:09". */
export function countdownClock(seconds) {
  const whole = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}
