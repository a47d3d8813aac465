// A job: `stepcron describe` as a page, and the actions the CLI has, done through it: start (the input checked as
// `run --event` checks it), pause with a note, resume, redrive a failed run, backfill's dry run. A refusal is shown
// as the CLI's one line; when AWS denies an action, the page says which permission it needs and stays read-only.
import { useEffect, useState } from 'preact/hooks';
import type { ApiError, Description, Info } from './api';
import { get, jobPath, post } from './api';
import { clock, duration, relative, usd } from './time';

const REDRIVABLE = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

interface Outcome { ok: boolean; text: string; denied?: boolean }

/**
 * Actions AWS denied this identity, per job and action, with AWS's message: those buttons stay disabled while the page
 * lives (navigating between jobs keeps them). Another job's buttons are not affected: a permission may be scoped to
 * some schedules or state machines. A reload forgets them all, so an action can be tried again once the permission
 * is granted; an action that succeeds is no longer denied.
 */
const deniedActions = new Map<string, string>();
const deniedKey = (job: string, action: string) => `${job}\u0000${action}`;

interface Ended { execution: string; status: string; exitCode?: number | null }
/** What the actions answer (cli/ui/api.ts act). */
interface ActionAnswer {
  message?: string;
  started?: { execution?: string; running?: boolean; ended?: Ended };
  redriven?: { execution: string; ended?: Ended };
  times?: Array<{ scheduledTime: string; status: string; execution?: string }>;
}

export function JobPage({ name, info, tick }: { name: string; info: Info; tick: number }) {
  const [d, setD] = useState<Description>();
  const [error, setError] = useState<string>();
  const [outcome, setOutcome] = useState<Outcome>();
  const [busy, setBusy] = useState(false);
  const [input, setInput] = useState('');
  const [note, setNote] = useState('');
  const [from, setFrom] = useState(() => new Date(Date.now() - 86_400_000).toISOString().slice(0, 16));
  const [to, setTo] = useState(() => new Date(Date.now() - 60_000).toISOString().slice(0, 16));
  const [times, setTimes] = useState<Array<{ scheduledTime: string; status: string; execution?: string }>>();
  const [reload, setReload] = useState(0);
  /** Redraws when an action was denied (deniedActions is outside the component's state). */
  const [, setDeniedCount] = useState(0);
  const denied = (action: string) => {
    const message = deniedActions.get(deniedKey(name, action));
    return message === undefined ? undefined : `${message} (reload the page once the permission is granted)`;
  };

  useEffect(() => {
    get<Description>(jobPath(name)).then((x) => {
      setD(x);
      setError(undefined);
    }, (e: Error) => setError(e.message));
  }, [name, tick, reload]);

  const act = async (action: string, body: Record<string, unknown>, show: (answer: ActionAnswer) => string) => {
    setBusy(true);
    setOutcome(undefined);
    try {
      const answer = await post<ActionAnswer>(jobPath(name, action), body);
      setOutcome({ ok: true, text: show(answer) });
      deniedActions.delete(deniedKey(name, action));
      if (answer.times) setTimes(answer.times);
      setReload((n) => n + 1);
    } catch (e) {
      const err = e as ApiError;
      setOutcome({ ok: false, text: err.message, denied: err.denied });
      if (err.denied) {
        deniedActions.set(deniedKey(name, action), err.message);
        setDeniedCount(deniedActions.size);
      }
    } finally {
      setBusy(false);
    }
  };

  if (error && !d) return <p class="error">{error}</p>;
  if (!d) return <p class="loading">loading {name}…</p>;
  // Times on the job's clock; its schedule may deploy in another zone (an aligned rate(...) as its cron(...) in UTC).
  const zone = d.schedule.timezone;
  const started = (a: ActionAnswer) => {
    const s = a.started ?? {};
    if (s.running) return `started ${s.execution ?? ''}: running (this page follows it)`;
    if (s.ended) return `${s.ended.status} ${s.ended.execution}${s.ended.exitCode !== undefined && s.ended.exitCode !== null ? ` exit ${s.ended.exitCode}` : ''}`;
    return `started ${s.execution}`;
  };

  return (
    <section class="job">
      <h2>{d.job} <b class={`pill ${d.state.replace(' ', '-')}`}>{d.state}</b></h2>
      <p class="desc">{d.description}</p>
      {d.pause && <p class="pause">paused by {d.pause.by} {relative(d.pause.at)} ({clock(d.pause.at, zone)}): {d.pause.note}</p>}
      {d.off && <p class="off">{d.off}</p>}
      <dl class="facts">
        <dt>schedule</dt><dd>{d.schedule.deployed.expression} <small>{d.schedule.deployed.timezone}</small>{d.schedule.notDeployedYet && <small> (the catalog says {d.schedule.expression} {d.schedule.timezone}: not deployed yet)</small>}{d.schedule.note && <small> {d.schedule.note}</small>}</dd>
        <dt>next</dt><dd>{d.next.length ? d.next.map((t) => <span key={t} class="time">{clock(t, zone)} <small>{relative(t)}</small></span>) : '-'}</dd>
        <dt>cost</dt><dd>{usd(d.costPerRun)} a run{d.monthlyEstimate !== undefined && <>, {usd(d.monthlyEstimate, 2)} a month</>}</dd>
        <dt>task</dt><dd>{String(d.settings.image)} · {String(d.settings.cpu)} CPU units · {String(d.settings.memoryMiB)} MiB · timeout {String(d.settings.timeoutSeconds)} s · retries {String(d.settings.retries)} · concurrency {String(d.settings.concurrency)}</dd>
      </dl>

      <div class="actions">
        <form onSubmit={(e) => {
          e.preventDefault();
          act('start', { input }, started);
        }}>
          <h3>Start a run</h3>
          <textarea name="input" rows={3} placeholder='run input (JSON), e.g. {"input": {"day": "2026-12-01"}}; empty: {}' value={input}
            onInput={(e) => setInput((e.target as HTMLTextAreaElement).value)} />
          <button class="act" type="submit" disabled={busy || Boolean(denied('start'))} title={denied('start')}>Start</button>
        </form>
        {d.state === 'paused' ? (
          <form onSubmit={(e) => {
            e.preventDefault();
            act('resume', {}, (a) => a.message ?? '');
          }}>
            <h3>Resume</h3>
            <button class="act" type="submit" disabled={busy || Boolean(denied('resume'))} title={denied('resume')}>Resume</button>
          </form>
        ) : (
          <form onSubmit={(e) => {
            e.preventDefault();
            act('pause', { note }, (a) => a.message ?? '');
          }}>
            <h3>Pause</h3>
            <input name="note" placeholder="why (shown by status until resume)" value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
            <button class="act" type="submit" disabled={busy || !note.trim() || Boolean(denied('pause'))} title={denied('pause')}>Pause</button>
          </form>
        )}
        <form onSubmit={(e) => {
          e.preventDefault();
          act('backfill', { from: `${from}:00Z`, to: `${to}:00Z` }, (a) => `dry run: ${(a.times ?? []).filter((t) => t.status === 'WOULD_RUN').length} of ${(a.times ?? []).length} times would run (stepcron backfill ${d.job} --from ${from}:00Z --to ${to}:00Z${info.mode === 'aws' ? ' --aws' : ''} runs them)`);
        }}>
          <h3>Backfill (dry run, UTC)</h3>
          <input type="datetime-local" name="from" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
          <input type="datetime-local" name="to" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
          <button class="act" type="submit" disabled={busy}>List times</button>
        </form>
      </div>
      {outcome && <p class={`outcome ${outcome.ok ? 'ok' : 'bad'}`} role="status">{outcome.denied && <b>read-only: </b>}{outcome.text}</p>}
      {times && (
        <table class="times">
          <thead><tr><th>scheduled ({zone})</th><th>status</th><th>execution</th></tr></thead>
          <tbody>{times.map((t) => <tr key={t.scheduledTime}><td>{clock(t.scheduledTime, zone)}</td><td>{t.status}</td><td>{t.execution ?? '-'}</td></tr>)}</tbody>
        </table>
      )}

      <h3>Runs</h3>
      <table class="runs">
        <thead><tr><th>status</th><th>execution</th><th>started ({zone})</th><th>took</th><th>exit</th><th>reason / error</th><th /></tr></thead>
        <tbody>
          {d.runs.map((r) => (
            <tr key={r.execution} class={`s-${r.status}`}>
              <td><b class={`pill s-${r.status}`}>{r.status}</b></td>
              <td><a href={`#/run/${encodeURIComponent(d.job)}/${encodeURIComponent(r.execution)}`}>{r.execution}</a></td>
              <td>{clock(r.startedAt, zone)} <small>{relative(r.startedAt)}</small></td>
              <td>{duration(r.durationMs)}</td>
              <td>{r.exitCode ?? '-'}</td>
              <td class="why">{r.reason ?? r.error ?? ''}</td>
              <td>{REDRIVABLE.has(r.status) && <button class="act" type="button" disabled={busy || Boolean(denied('redrive'))} title={denied('redrive')} onClick={() => act('redrive', { execution: r.execution }, (a) => `redrove ${a.redriven?.execution}${a.redriven?.ended ? `: ${a.redriven.ended.status}` : ''}`)}>Redrive</button>}</td>
            </tr>
          ))}
          {d.runs.length === 0 && <tr><td colSpan={7}>no runs yet ({d.where})</td></tr>}
        </tbody>
      </table>
      {d.lastFailure && d.lastFailure.tail.length > 0 && (
        <>
          <h3>Last failure's output ({d.lastFailure.execution})</h3>
          <pre class="output">{d.lastFailure.tail.map((l) => `${l.label} | ${l.text}`).join('\n')}</pre>
        </>
      )}
    </section>
  );
}
