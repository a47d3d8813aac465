// Times as the console shows them: on the job's own clock (its zone), and how far from now.

const formats = new Map<string, Intl.DateTimeFormat>();

/** `12-08 02:30 CET` on the zone's clock (the browser's zone when none is given). */
export function clock(iso: string, zone?: string, withDay = true): string {
  const key = `${zone ?? ''}|${withDay}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      ...(zone && { timeZone: zone }), ...(withDay && { month: '2-digit', day: '2-digit' }), hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short',
    });
    formats.set(key, format);
  }
  const p = Object.fromEntries(format.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${withDay ? `${p.month}-${p.day} ` : ''}${p.hour}:${p.minute} ${p.timeZoneName ?? ''}`.trim();
}

/** `in 3 h`, `5 min ago`, `in 2 d`. */
export function relative(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso) - now;
  const abs = Math.abs(ms);
  const text = abs < 60_000 ? `${Math.max(1, Math.round(abs / 1000))} s` : abs < 3_600_000 ? `${Math.round(abs / 60_000)} min`
    : abs < 48 * 3_600_000 ? `${Math.round(abs / 360_000) / 10} h` : `${Math.round(abs / 86_400_000)} d`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

export function duration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function usd(n: number | undefined, digits = 6): string {
  return n === undefined ? '-' : `$${n.toFixed(digits)}`;
}
