// A job's last runs as a strip of bars (as Cronitor and Healthchecks show them): oldest left, newest right; the colour
// is the outcome, the height the duration against the strip's longest run, a mark above a bar a late start (orange),
// a run faster than minRuntimeSeconds (violet) or slower than runtimeWarningSeconds (red).
import type { StripRun } from './api';
import { clock, duration } from './time';

export function Strip({ job, runs, zone, slots }: { job: string; runs: StripRun[]; zone: string; slots: number }) {
  const longest = Math.max(1, ...runs.map((r) => r.d ?? 0));
  const bars = runs.slice(0, slots).reverse();
  return (
    <span class="strip" title={`last ${bars.length} runs`}>
      {Array.from({ length: slots - bars.length }, (_, i) => <span key={`e${i}`} class="bar empty" />)}
      {bars.map((r) => {
        const height = r.s === 'RUNNING' ? 100 : Math.max(12, Math.round((100 * (r.d ?? 0)) / longest));
        const title = [
          `${r.s} ${clock(r.t, zone)}`, `took ${duration(r.d)}`, r.x !== undefined && r.x !== null ? `exit ${r.x}` : '',
          ...(r.m ?? []).map((m) => (m === 'late' ? 'started late' : m === 'fast' ? 'faster than minRuntimeSeconds' : 'slower than runtimeWarningSeconds')),
          r.r ?? '', r.e,
        ].filter(Boolean).join('\n');
        return (
          <a key={r.e} class={`bar s-${r.s}`} href={`#/run/${encodeURIComponent(job)}/${encodeURIComponent(r.e)}`} title={title}>
            <span class="fill" style={{ height: `${height}%` }} />
            {r.m?.map((m) => <span key={m} class={`mark m-${m}`} />)}
          </a>
        );
      })}
    </span>
  );
}
