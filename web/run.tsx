// A run, minimally: its status, its events (type and state) and its job's output, followed live. The Run page proper
// (the state machine drawn from its definition, fan-out grid) replaces this at the same route: #/run/<job>/<execution>.
import { useEffect, useState } from 'preact/hooks';
import { get, type RunPage as Run } from './api';
import { clock, duration } from './time';

/** A local engine event ({type, state: {name}}) or a stage's history event ({type, stateEnteredEventDetails: {name}}). */
interface EventLike { type?: string; state?: { name?: string }; stateEnteredEventDetails?: { name?: string }; stateExitedEventDetails?: { name?: string } }

export function RunPage({ job, execution, tick }: { job: string; execution: string; tick: number }) {
  const [run, setRun] = useState<Run>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    get<Run>(`/api/runs/${encodeURIComponent(job)}/${encodeURIComponent(execution)}`).then((r) => {
      setRun(r);
      setError(undefined);
    }, (e: Error) => setError(e.message));
  }, [job, execution, tick]);
  if (error && !run) return <p class="error">{error}</p>;
  if (!run) return <p class="loading">loading {execution}…</p>;
  const r = run.run;
  return (
    <section class="run">
      <h2><a href={`#/job/${encodeURIComponent(job)}`}>{job}</a> / {execution} {r && <b class={`pill s-${r.status}`}>{r.status}</b>}</h2>
      {r && (
        <p>started {clock(r.startedAt)} · took {duration(r.durationMs)}{r.exitCode !== undefined && r.exitCode !== null && ` · exit ${r.exitCode}`}
          {(r.reason ?? r.error) && ` · ${r.reason ?? r.error}`}{r.link && <> · <a href={r.link} rel="noreferrer" target="_blank">AWS console</a></>}</p>
      )}
      <h3>Output</h3>
      <pre class="output">{run.output.length ? run.output.map((l) => `${l.label} | ${l.text}`).join('\n') : '(no output)'}</pre>
      <h3>Events ({run.events.length})</h3>
      <ol class="events">
        {(run.events as EventLike[]).slice(0, 2000).map((e, i) => (
          <li key={i}>{e.type ?? '?'} <b>{e.state?.name ?? e.stateEnteredEventDetails?.name ?? e.stateExitedEventDetails?.name ?? ''}</b></li>
        ))}
      </ol>
    </section>
  );
}
