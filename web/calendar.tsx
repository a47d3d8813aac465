// The calendar: every enabled job's fire times over the next 24 hours or 7 days, counted per hour, so the hours where
// jobs pile up stand out; a zone's DST change in the window is marked on its hour. Hours are on this browser's clock.
import { useEffect, useState } from 'preact/hooks';
import { type Calendar, get } from './api';
import { clock } from './time';

const dayFormat = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short' });
/** `Tue 8 Dec`, under the midnight that starts the day. */
const day = (iso: string) => dayFormat.format(new Date(iso));

export function CalendarPage({ tick }: { tick: number }) {
  const [days, setDays] = useState(() => (sessionStorage.getItem('days') === '7' ? 7 : 1));
  const [data, setData] = useState<Calendar>();
  const [error, setError] = useState<string>();
  const [picked, setPicked] = useState<number>();
  useEffect(() => {
    get<Calendar>(`/api/calendar?days=${days}`).then((d) => {
      setData(d);
      setError(undefined);
    }, (e: Error) => setError(e.message));
  }, [days, tick]);
  if (error && !data) return <p class="error">{error}</p>;
  if (!data) return <p class="loading">loading the calendar…</p>;
  const peak = Math.max(1, ...data.buckets.map((b) => b.count));
  const total = data.buckets.reduce((n, b) => n + b.count, 0);
  const busiest = data.buckets.reduce((a, b) => (b.count > a.count ? b : a), data.buckets[0]!);
  const dstAt = (at: string) => data.dst.filter((d) => Date.parse(d.at) >= Date.parse(at) && Date.parse(d.at) < Date.parse(at) + 3_600_000);
  const bucket = picked === undefined ? undefined : data.buckets[picked];
  const pick = (d: number) => {
    sessionStorage.setItem('days', String(d));
    setPicked(undefined);
    setDays(d);
  };
  return (
    <section class="calendar">
      <div class="toolbar">
        <button type="button" class={days === 1 ? 'on' : ''} onClick={() => pick(1)}>next 24 hours</button>
        <button type="button" class={days === 7 ? 'on' : ''} onClick={() => pick(7)}>next 7 days</button>
        <span class="count">{total} runs scheduled · busiest hour {clock(busiest.at)} with {busiest.count}</span>
      </div>
      {data.dst.length > 0 && (
        <ul class="dstlist">
          {data.dst.map((d) => <li key={`${d.zone}${d.at}`}>DST: {d.zone} goes from {d.from} to {d.to} at {clock(d.at)} ({clock(d.at, d.zone)} there)</li>)}
        </ul>
      )}
      {data.cut.length > 0 && <p class="note">Counted up to {data.cut[0]!.fires} times per job: {data.cut.map((c) => c.job).join(', ')} fire more often.</p>}
      <div class={`hours h${data.hours}`}>
        {data.buckets.map((b, i) => {
          const dst = dstAt(b.at);
          const hour = new Date(b.at).getHours();
          return (
            <button type="button" key={b.at} class={`hour ${picked === i ? 'on' : ''} ${dst.length ? 'dst' : ''} ${hour === 0 ? 'midnight' : ''}`}
              title={`${clock(b.at)}: ${b.count} run${b.count === 1 ? '' : 's'}${dst.map((d) => `\nDST ${d.zone} ${d.from} → ${d.to}`).join('')}`}
              onClick={() => setPicked(i)} data-count={b.count}>
              <span class="hfill" style={{ height: `${(100 * b.count) / peak}%` }} />
              {(data.hours <= 24 || hour % 6 === 0) && <span class="label">{String(hour).padStart(2, '0')}</span>}
              {hour === 0 && <span class="day">{day(b.at)}</span>}
            </button>
          );
        })}
      </div>
      {bucket && (
        <div class="fires">
          <h3>{clock(bucket.at)}: {bucket.count} run{bucket.count === 1 ? '' : 's'}</h3>
          <ul>
            {bucket.jobs.map((f) => <li key={`${f.job}${f.at}`}><span>{clock(f.at, undefined, false)}</span> <a href={`#/job/${encodeURIComponent(f.job)}`}>{f.job}</a></li>)}
            {bucket.count > bucket.jobs.length && <li class="note">and {bucket.count - bucket.jobs.length} more</li>}
          </ul>
        </div>
      )}
    </section>
  );
}
