// The console (`stepcron ui`): a hash router over four pages, and the live loop that reloads the shown page when the
// store changes (the server's /api/version: one cheap read every 2 s locally; a stage is re-read every minute, which
// for 1,000 jobs is 1,000 ListExecutions and GetSchedule calls).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get, type Info } from './api';
import { CalendarPage } from './calendar';
import { JobPage } from './job';
import { JobsPage } from './jobs';
import { RunPage } from './run';

/** The route: `#/`, `#/calendar`, `#/job/<name>`, `#/run/<job>/<execution>[/item/<index>]`. */
function useRoute(): string[] {
  const read = () => (location.hash.replace(/^#\/?/, '') || 'jobs').split('/').map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    // The hash may have changed between the first render and now (a link followed while the page loaded).
    on();
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** A number that grows whenever the data behind the pages changed: pages reload on it. */
function useLive(info: Info | undefined): { tick: number; live: string } {
  const [tick, setTick] = useState(0);
  const [live, setLive] = useState('');
  useEffect(() => {
    if (!info) return undefined;
    let last: string | null | undefined;
    let stopped = false;
    let timer: number | undefined;
    const poll = async () => {
      try {
        if (info.live) {
          const { version } = await get<{ version: string | null }>('/api/version');
          if (last !== undefined && version !== last) setTick((t) => t + 1);
          last = version;
        } else setTick((t) => t + 1);
        setLive(info.live ? 'live' : 'refreshed every minute');
      } catch {
        setLive('offline: is stepcron ui still running?');
      }
      if (!stopped) timer = window.setTimeout(poll, info.live ? 2000 : 60_000);
    };
    timer = window.setTimeout(poll, info.live ? 0 : 60_000);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [info]);
  return { tick, live };
}

function App() {
  const route = useRoute();
  const [info, setInfo] = useState<Info>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    get<Info>('/api/info').then(setInfo, (e: Error) => setError(e.message));
  }, []);
  const { tick, live } = useLive(info);
  const page = route[0];
  let body = null;
  if (error) body = <p class="error">{error}</p>;
  else if (!info) body = <p class="loading">loading…</p>;
  else if (page === 'calendar') body = <CalendarPage tick={tick} />;
  else if (page === 'job' && route[1]) body = <JobPage name={route[1]} info={info} tick={tick} />;
  else if (page === 'run' && route[1] && route[2]) body = <RunPage job={route[1]} execution={route[2]} item={route[3] === 'item' ? route[4] : undefined} tick={tick} />;
  else body = <JobsPage info={info} tick={tick} />;
  return (
    <>
      <header>
        <a class="brand" href="#/">stepcron</a>
        <nav>
          <a href="#/" class={page === 'jobs' || page === 'job' ? 'on' : ''}>Jobs</a>
          <a href="#/calendar" class={page === 'calendar' ? 'on' : ''}>Calendar</a>
        </nav>
        {info && <span class="where">stage <b>{info.stage}</b> {info.mode === 'aws' ? 'on AWS' : `· ${info.where}`}</span>}
        <span class={`live ${live.startsWith('offline') ? 'bad' : ''}`}>{live}</span>
      </header>
      <main>{body}</main>
    </>
  );
}

const root = document.getElementById('app')!;
// The static "loading…" the page shows until this script runs.
root.textContent = '';
render(<App />, root);
