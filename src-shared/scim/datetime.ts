/**
 * RFC 7643 §2.3.5: dateTime values are xsd:dateTime. They are compared as instants (filters,
 * sorting), never as text, so "2011-05-13T04:42:34Z" equals "2011-05-13T06:42:34+02:00".
 * Date.parse is not used: it reads a value without an offset as *local* time, which would make
 * results depend on the machine's time zone. A missing offset is read as UTC here.
 */
const DATE_TIME = /^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/i;

/** Milliseconds since the epoch, or undefined when the text is not an xsd:dateTime. */
export function parseDateTime(text: string): number | undefined {
  if (text.length === 24) {
    const ms = isoUtcMillis(text);
    if (ms !== undefined) return ms;
  }
  return parseDateTimeByPattern(text);
}

/**
 * Microseconds since the epoch, for comparing instants (filters, sorting): xsd:dateTime allows any
 * number of fractional digits, and a client's "…32.2819Z" is later than the server's "…32.281Z",
 * which milliseconds would call equal. Digits beyond the microsecond are dropped (.NET's seventh).
 */
export function parseDateTimeMicros(text: string): number | undefined {
  const ms = parseDateTime(text);
  if (ms === undefined) return undefined;
  // The server's own form (`…:34.123Z`) stops at the millisecond.
  if (text.length === 24 && text.charCodeAt(23) === 0x5a) return ms * 1000;
  const fraction = SUB_MILLIS.exec(text)?.[1];
  return ms * 1000 + (fraction ? Number(fraction.padEnd(3, '0')) : 0);
}

/** The fourth to sixth fractional digits of a dateTime's seconds. */
const SUB_MILLIS = /T\d{2}:\d{2}:\d{2}\.\d{3}(\d{1,3})/i;

/**
 * The form the server itself writes (`toISOString`: `2011-05-13T04:42:34.000Z`), read by position:
 * every create and every index key reads one, and the pattern's captures cost several times more.
 * Undefined for anything else (out-of-range fields included), which the pattern then reads.
 */
function isoUtcMillis(text: string): number | undefined {
  if (
    text.charCodeAt(4) !== 0x2d ||
    text.charCodeAt(7) !== 0x2d ||
    text.charCodeAt(10) !== 0x54 ||
    text.charCodeAt(13) !== 0x3a ||
    text.charCodeAt(16) !== 0x3a ||
    text.charCodeAt(19) !== 0x2e ||
    text.charCodeAt(23) !== 0x5a
  ) {
    return undefined;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  const millis = digits(text, 20, 3);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || millis < 0) return undefined;
  return (((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60 + second) * 1000 + millis;
}

/** The decimal number in `count` characters from `start`, or -1 if one is not a digit. */
function digits(text: string, start: number, count: number): number {
  let n = 0;
  for (let i = start; i < start + count; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Any xsd:dateTime, by pattern. Exported for the test that holds the fast path to it. */
export function parseDateTimeByPattern(text: string): number | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 24 || minute > 59 || second > 60 || (hour === 24 && (minute !== 0 || second !== 0))) return undefined;
  let ms =
    (((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60 + Math.min(second, 59)) * 1000 +
    (frac ? Math.floor(Number(`0${frac}`) * 1000) : 0);
  if (zone && zone !== 'Z' && zone !== 'z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 14 || om > 59) return undefined;
    ms -= (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return Number.isFinite(ms) ? ms : undefined;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil):
 * plain arithmetic, no Date object, so it is fast on every row of a scan and exact for any year.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}
