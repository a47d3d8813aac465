// Times as people read them: the job's own clock (its catalog timeZone), labelled with the zone's abbreviation (or its
// UTC offset where it has none), and how far off from now. One format for every human-facing time the CLI prints (next, status, history,
// runs, backfill, describe, plan, the local scheduler, pause notes); --json output keeps ISO UTC strings.
// Pure: `now` is passed in, so tests are deterministic.

/** Per zone (and locale): building an Intl.DateTimeFormat costs far more than formatting with one (`next -n 10000`). */
const wallFormats = new Map<string, Intl.DateTimeFormat>();
const nameFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * Locales whose short zone names are abbreviations people know: en-US names America's (EST, CDT), en-GB Europe's
 * (CET, BST), en-AU Australia's and New Zealand's (AEDT, NZST). Others (Asia/Kolkata, Asia/Tokyo) get the offset.
 * en-IN's IST is left out on purpose: India, Ireland and Israel all call theirs IST.
 */
const NAMING_LOCALES = ['en-US', 'en-GB', 'en-AU'];

/** The wall clock in `zone` at `at`: year, month, day, hour, minute (and second, for the offset). */
function wall(at: Date, zone: string): Record<string, string> {
  let format = wallFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    });
    wallFormats.set(zone, format);
  }
  return Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
}

/** `+01:00`, `-04:00`, `+05:45`: the zone's offset from UTC at that instant (DST included). */
export function utcOffset(at: Date, zone: string): string {
  const p = wall(at, zone);
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  const minutes = Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** CET, AEDT, EST where a locale names the zone at that instant; undefined where none does (only GMT+5:30 and such). */
export function zoneAbbreviation(at: Date, zone: string): string | undefined {
  for (const locale of NAMING_LOCALES) {
    const key = `${locale} ${zone}`;
    let format = nameFormats.get(key);
    if (!format) {
      format = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'short' });
      nameFormats.set(key, format);
    }
    const name = format.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value;
    if (name && /^[A-Z]{2,5}$/.test(name)) return name;
  }
  return undefined;
}

/**
 * `2026-12-08 02:30 CET (in 7 h)`: the time on the zone's clock, to the minute; the zone's abbreviation at that instant
 * (CET in winter, CEST in summer), or its offset where it has none (`UTC+05:30`); and how far from `now` when given.
 */
export function localTime(at: Date, zone: string, now?: Date): string {
  const p = wall(at, zone);
  const clock = `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
  const away = now ? ` (${relative(at.getTime() - now.getTime())})` : '';
  return `${clock} ${zoneLabel(at, zone)}${away}`;
}

/**
 * CET, AEDT, EST where a locale names the zone at that instant; `UTC+05:30` where none does; `UTC` for a zone that is
 * UTC all year (UTC, Etc/UTC; Europe/London in winter is GMT, not UTC).
 */
export function zoneLabel(at: Date, zone: string): string {
  const offset = utcOffset(at, zone);
  const name = zoneAbbreviation(at, zone);
  if (offset === '+00:00' && (name === undefined || name === 'UTC' || name === 'GMT') && isUtcAllYear(zone, at)) return 'UTC';
  return name ?? `UTC${offset}`;
}

/** `16:50:05 EST`: the wall clock to the second, labelled; a log line's stamp (its date is on the line when it matters). */
export function clockTime(at: Date, zone: string): string {
  const p = wall(at, zone);
  return `${p.hour}:${p.minute}:${p.second} ${zoneLabel(at, zone)}`;
}

/** An ISO string (as runs and --json keep them) in the zone; the text itself when it is not a time. */
export function localIso(iso: string, zone: string, now?: Date): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : localTime(at, zone, now);
}

/** `in 7 h`, `13 min ago`, `in 2 d`: whole units, enough to read at a glance. */
export function relative(ms: number): string {
  const abs = Math.abs(ms);
  const text = abs < 60_000 ? `${Math.round(abs / 1000)} s` : abs < 3_600_000 ? `${Math.round(abs / 60_000)} min`
    : abs < 172_800_000 ? `${Math.round(abs / 3_600_000)} h` : `${Math.round(abs / 86_400_000)} d`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

/** Europe/London is +00:00 in winter but not UTC: only a zone with no offset in January nor July reads as plain UTC. */
function isUtcAllYear(zone: string, at: Date): boolean {
  const year = at.getUTCFullYear();
  return utcOffset(new Date(Date.UTC(year, 0, 15)), zone) === '+00:00' && utcOffset(new Date(Date.UTC(year, 6, 15)), zone) === '+00:00';
}
