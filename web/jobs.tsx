// The jobs page: every job of the catalog on the stage, one row each, filtered and sorted in the browser. Only the rows
// in view are rendered (a fixed row height), so 1,000 jobs cost what 30 do.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get, type Info, type JobRow } from './api';
import { Strip } from './strip';
import { clock, relative, usd } from './time';

const ROW_PX = 46;
/** Rows rendered beyond the visible ones, above and below. */
const OVERSCAN = 8;

type Key = 'job' | 'state' | 'schedule' | 'next' | 'last' | 'success' | 'cost' | 'monthly';
const COLUMNS: Array<{ key: Key; label: string }> = [
  { key: 'job', label: 'Job' }, { key: 'state', label: 'State' }, { key: 'schedule', label: 'Schedule' }, { key: 'next', label: 'Next' },
  { key: 'last', label: 'Last runs' }, { key: 'success', label: 'Success' }, { key: 'cost', label: 'Cost/run' }, { key: 'monthly', label: 'Monthly' },
];
const STATE_ORDER = { enabled: 0, paused: 1, disabled: 2, 'not deployed': 3 };
const FAILED = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

function sortValue(r: JobRow, key: Key): string | number {
  switch (key) {
    case 'job': return r.job;
    case 'state': return STATE_ORDER[r.state];
    case 'schedule': return r.words;
    case 'next': return r.next[0] ? Date.parse(r.next[0]) : Number.POSITIVE_INFINITY;
    // Failing jobs first: the newest run's outcome, then when it ran.
    case 'last': return r.runs[0] ? (FAILED.has(r.runs[0].s) ? 0 : 1) * 1e13 + Date.parse(r.runs[0].t) : 2e13;
    case 'success': return r.successRate.percent ?? 101;
    case 'cost': return r.costPerRun ?? -1;
    case 'monthly': return r.monthlyEstimate ?? -1;
  }
}

export function JobsPage({ info, tick }: { info: Info; tick: number }) {
  const [rows, setRows] = useState<JobRow[]>();
  const [error, setError] = useState<string>();
  const [filter, setFilter] = useState(() => sessionStorage.getItem('filter') ?? '');
  const [sort, setSort] = useState<{ key: Key; down: boolean }>({ key: 'job', down: false });
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(800);
  const scroller = useRef<HTMLDivElement>(null);

  useEffect(() => {
    get<JobRow[]>('/api/jobs').then((r) => {
      setRows(r);
      setError(undefined);
    }, (e: Error) => setError(e.message));
  }, [tick]);
  useEffect(() => {
    const measure = () => setHeight(scroller.current?.clientHeight ?? 800);
    measure();
    addEventListener('resize', measure);
    return () => removeEventListener('resize', measure);
  }, [rows !== undefined]);

  const shown = useMemo(() => {
    if (!rows) return [];
    const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
    const kept = words.length === 0 ? rows : rows.filter((r) => {
      const text = `${r.job} ${r.description} ${r.state} ${r.words} ${r.schedule} ${r.timezone} ${r.pause?.note ?? ''}`.toLowerCase();
      return words.every((w) => text.includes(w));
    });
    const sign = sort.down ? -1 : 1;
    return kept.slice().sort((a, b) => {
      const x = sortValue(a, sort.key);
      const y = sortValue(b, sort.key);
      return (x < y ? -1 : x > y ? 1 : a.job.localeCompare(b.job)) * sign;
    });
  }, [rows, filter, sort]);

  if (error && !rows) return <p class="error">{error}</p>;
  if (!rows) return <p class="loading">loading jobs…</p>;
  const first = Math.max(0, Math.floor(top / ROW_PX) - OVERSCAN);
  const last = Math.min(shown.length, Math.ceil((top + height) / ROW_PX) + OVERSCAN);
  const now = Date.now();
  const counts = { enabled: 0, paused: 0, disabled: 0, 'not deployed': 0 };
  for (const r of rows) counts[r.state]++;

  return (
    <section class="jobs">
      <div class="toolbar">
        <input type="search" placeholder="filter: name, state, schedule, zone…" value={filter} aria-label="filter jobs"
          onInput={(e) => {
            const v = (e.target as HTMLInputElement).value;
            sessionStorage.setItem('filter', v);
            setFilter(v);
          }} />
        <span class="count">{shown.length} of {rows.length} jobs · {counts.enabled} enabled · {counts.paused} paused · {counts.disabled + counts['not deployed']} off</span>
        {error && <span class="error">{error}</span>}
      </div>
      <div class="grid head">
        {COLUMNS.map((c) => (
          <button type="button" key={c.key} class={sort.key === c.key ? 'sorted' : ''}
            onClick={() => setSort((s) => ({ key: c.key, down: s.key === c.key ? !s.down : c.key === 'cost' || c.key === 'monthly' }))}>
            {c.label}{sort.key === c.key ? (sort.down ? ' ▼' : ' ▲') : ''}
          </button>
        ))}
      </div>
      <div class="rows" ref={scroller} onScroll={(e) => setTop((e.target as HTMLDivElement).scrollTop)}>
        <div style={{ height: `${shown.length * ROW_PX}px`, position: 'relative' }}>
          {shown.slice(first, last).map((r, i) => (
            <div class={`grid row st-${r.state.replace(' ', '-')}`} key={r.job} style={{ top: `${(first + i) * ROW_PX}px` }} data-job={r.job}>
              <span class="name"><a href={`#/job/${encodeURIComponent(r.job)}`}>{r.job}</a><small>{r.description}</small></span>
              <span class="state" title={r.pause ? `paused by ${r.pause.by} at ${r.pause.at}: ${r.pause.note}` : r.off ?? ''}>
                <b class={`pill ${r.state.replace(' ', '-')}`}>{r.state}</b>
                <small>{r.pause ? r.pause.note : r.off ?? ''}</small>
              </span>
              <span class="sched" title={`${r.schedule} ${r.timezone}${r.catalog ? ` (the catalog says ${r.catalog.schedule} ${r.catalog.timezone}, not deployed yet)` : ''}`}>
                {r.words}<small>{r.timezone}</small>
              </span>
              <span class="next" title={r.next.map((t) => clock(t, r.timezone)).join('\n')}>
                {r.next[0] ? <>{relative(r.next[0], now)}<small>{clock(r.next[0], r.timezone)}</small></> : '-'}
              </span>
              <Strip job={r.job} runs={r.runs} zone={r.timezone} slots={info.strip} />
              <span class="num">{r.successRate.percent === null ? '-' : `${r.successRate.percent}%`}<small>{r.successRate.succeeded}/{r.successRate.finished}</small></span>
              <span class="num">{usd(r.costPerRun)}</span>
              <span class="num">{r.monthlyEstimate !== undefined ? usd(r.monthlyEstimate, 2) : r.state === 'enabled' ? '-' : '—'}</span>
            </div>
          ))}
        </div>
      </div>
    </section>
  );
}
