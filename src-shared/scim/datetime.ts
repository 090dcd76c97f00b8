/**
 * RFC 7643 §2.3.5: dateTime values are xsd:dateTime. They are compared as instants (filters,
 * sorting), never as text, so "2011-05-13T04:42:34Z" equals "2011-05-13T06:42:34+02:00".
 * Date.parse is not used: it reads a value without an offset as *local* time, which would make
 * results depend on the machine's time zone. A missing offset is read as UTC here.
 */
const DATE_TIME = /^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/i;

/** Milliseconds since the epoch, or undefined when the text is not an xsd:dateTime. */
export function parseDateTime(text: string): number | undefined {
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
