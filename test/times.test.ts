// Times people read (workflows/times.ts): the one format every human-facing time of the CLI has: the job's own clock,
// its zone's abbreviation at that instant (its UTC offset where none exists), and how far from an injected now.
import { clockTime, localIso, localTime, relative, utcOffset, zoneLabel } from '../workflows/times';

describe('times people read', () => {
  const now = new Date('2026-12-07T18:30:00Z');

  it('the job\'s own clock with its zone\'s abbreviation, or its UTC offset where no name exists, and how far off', () => {
    expect(localTime(new Date('2026-12-08T01:30:00Z'), 'Europe/Berlin', now)).toBe('2026-12-08 02:30 CET (in 7 h)');
    expect(localTime(new Date('2026-07-08T00:30:00Z'), 'Europe/Berlin', new Date('2026-07-07T22:17:00Z'))).toBe('2026-07-08 02:30 CEST (in 2 h)');
    expect(localTime(new Date('2026-12-07T18:17:00Z'), 'America/New_York', now)).toBe('2026-12-07 13:17 EST (13 min ago)');
    expect(localTime(new Date('2026-12-10T00:00:00Z'), 'Asia/Kathmandu', now)).toBe('2026-12-10 05:45 UTC+05:45 (in 2 d)');
    expect(localTime(new Date('2026-12-07T18:30:20Z'), 'UTC', now)).toBe('2026-12-07 18:30 UTC (in 20 s)');
    // Without a now: the time and its zone alone.
    expect(localTime(new Date('2026-12-08T01:30:00Z'), 'Europe/Berlin')).toBe('2026-12-08 02:30 CET');
  });

  it('zones Intl has no abbreviation for show their offset (India\'s IST is also Ireland\'s and Israel\'s)', () => {
    const at = new Date('2026-12-08T01:30:00Z');
    expect(localTime(at, 'Asia/Kolkata')).toBe('2026-12-08 07:00 UTC+05:30');
    expect(localTime(at, 'Asia/Tokyo')).toBe('2026-12-08 10:30 UTC+09:00');
    expect(localTime(at, 'America/St_Johns')).toBe('2026-12-07 22:00 UTC-03:30');
    expect(localTime(at, 'America/Sao_Paulo')).toBe('2026-12-07 22:30 UTC-03:00');
  });

  it('UTC reads as UTC; London reads GMT in winter and BST in summer, never UTC', () => {
    expect(zoneLabel(new Date('2026-12-08T01:30:00Z'), 'UTC')).toBe('UTC');
    expect(zoneLabel(new Date('2026-12-08T01:30:00Z'), 'Etc/UTC')).toBe('UTC');
    expect(zoneLabel(new Date('2026-12-08T01:30:00Z'), 'Europe/London')).toBe('GMT');
    expect(zoneLabel(new Date('2026-07-08T01:30:00Z'), 'Europe/London')).toBe('BST');
  });

  it('a zone on GMT all year (Etc/GMT, Reykjavik, Abidjan) is UTC; one at +00:00 only in summer (the Azores) shows its offset', () => {
    for (const zone of ['Etc/GMT', 'Atlantic/Reykjavik', 'Africa/Abidjan']) {
      expect(zoneLabel(new Date('2026-12-08T01:30:00Z'), zone)).toBe('UTC');
      expect(zoneLabel(new Date('2026-07-08T01:30:00Z'), zone)).toBe('UTC');
    }
    // Intl has no name for the Azores at +00:00: neither UTC (it is -01:00 in winter) nor a made-up GMT.
    expect(zoneLabel(new Date('2026-07-08T01:30:00Z'), 'Atlantic/Azores')).toBe('UTC+00:00');
    expect(zoneLabel(new Date('2026-12-08T01:30:00Z'), 'Atlantic/Azores')).toBe('UTC-01:00');
  });

  it('offsets: +00:00 for UTC (never -00:00), west of UTC negative, with half hours', () => {
    expect(utcOffset(new Date('2026-12-08T01:30:00Z'), 'UTC')).toBe('+00:00');
    expect(utcOffset(new Date('2026-12-08T01:30:00Z'), 'America/St_Johns')).toBe('-03:30');
    expect(utcOffset(new Date('2026-07-08T01:30:00Z'), 'America/St_Johns')).toBe('-02:30');
  });

  it("a log line's stamp: the zone's clock to the second, labelled", () => {
    expect(clockTime(new Date('2026-12-07T21:50:05Z'), 'America/New_York')).toBe('16:50:05 EST');
    expect(clockTime(new Date('2026-12-07T21:50:05Z'), 'Asia/Kolkata')).toBe('03:20:05 UTC+05:30');
  });

  it('Berlin\'s DST nights: the abbreviation is the one in force at that instant', () => {
    // Spring forward, Sun 29 Mar 2026: 02:00 CET becomes 03:00 CEST (01:00 UTC).
    expect(localTime(new Date('2026-03-29T00:59:00Z'), 'Europe/Berlin')).toBe('2026-03-29 01:59 CET');
    expect(localTime(new Date('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toBe('2026-03-29 03:00 CEST');
    // Fall back, Sun 25 Oct 2026: 02:30 happens twice, first as CEST, then as CET; the label tells them apart.
    expect(localTime(new Date('2026-10-25T00:30:00Z'), 'Europe/Berlin')).toBe('2026-10-25 02:30 CEST');
    expect(localTime(new Date('2026-10-25T01:30:00Z'), 'Europe/Berlin')).toBe('2026-10-25 02:30 CET');
    expect([utcOffset(new Date('2026-10-25T00:30:00Z'), 'Europe/Berlin'), utcOffset(new Date('2026-10-25T01:30:00Z'), 'Europe/Berlin')])
      .toEqual(['+02:00', '+01:00']);
  });

  it('Sydney\'s DST nights (southern hemisphere: daylight time in December)', () => {
    // DST ends Sun 5 Apr 2026 at 03:00 AEDT -> 02:00 AEST: 02:30 happens twice.
    expect(localTime(new Date('2026-04-04T15:30:00Z'), 'Australia/Sydney')).toBe('2026-04-05 02:30 AEDT');
    expect(localTime(new Date('2026-04-04T16:30:00Z'), 'Australia/Sydney')).toBe('2026-04-05 02:30 AEST');
    // DST starts Sun 4 Oct 2026 at 02:00 AEST -> 03:00 AEDT: 02:xx does not exist.
    expect(localTime(new Date('2026-10-03T15:59:00Z'), 'Australia/Sydney')).toBe('2026-10-04 01:59 AEST');
    expect(localTime(new Date('2026-10-03T16:00:00Z'), 'Australia/Sydney')).toBe('2026-10-04 03:00 AEDT');
    expect(utcOffset(new Date('2026-12-08T01:30:00Z'), 'Australia/Sydney')).toBe('+11:00');
  });

  it('relative buckets: seconds under a minute, minutes under an hour, hours under two days, then days', () => {
    expect([0, 59_000, 60_000, 13 * 60_000, 59 * 60_000 + 29_000, 3_600_000, 47 * 3_600_000, 48 * 3_600_000, 3 * 86_400_000].map(relative))
      .toEqual(['in 0 s', 'in 59 s', 'in 1 min', 'in 13 min', 'in 59 min', 'in 1 h', 'in 47 h', 'in 2 d', 'in 3 d']);
    expect([-13 * 60_000, -2 * 3_600_000, -10 * 86_400_000].map(relative)).toEqual(['13 min ago', '2 h ago', '10 d ago']);
  });

  it('an ISO string from a run or a pause; text that is not a time is shown as it is, never a RangeError', () => {
    expect(localIso('2026-12-07T18:17:00.000Z', 'Europe/Berlin', now)).toBe('2026-12-07 19:17 CET (13 min ago)');
    expect(localIso('', 'Europe/Berlin', now)).toBe('');
    expect(localIso('yesterday', 'Europe/Berlin', now)).toBe('yesterday');
  });
});
