// Live progress on stderr: each state entered/exited/retried with timings, and a fan-out progress bar with
// done/failed/running counts (redrawn in place on a terminal, printed at each tenth otherwise).
import { itemId } from '../workflows/items';
import { type EventLog, jobExitCode } from './engine';

export interface ProgressOptions {
  /** A returned promise means the stream is full (back-pressure); line() hands it on. */
  write: (text: string) => unknown;
  tty: boolean;
  /** Waits are skipped (`--skip-waits`): say so instead of the wait the definition asks for. */
  skipWaits?: boolean;
  /** The job's timeoutSeconds: a RunTask that times out says after how long. */
  timeoutSeconds?: number;
  now?: () => number;
}

/** The parts of a state's data the progress lines read (see workflows/compile.ts). */
interface ItemState {
  item?: unknown;
  retry?: { attempt: number; delay: number };
  outcome?: { error?: string; exitCode?: number | null };
}

/** Names a fan-out item on its output lines: `[acme] ` (workflows/items.ts, as notifications name it). */
export function itemLabel(item: unknown): string {
  return `[${itemId(item)}] `;
}

export class Progress {
  private readonly entered = new Map<string, number>();
  /** States whose failure was just printed: their StateExited (after a Catch) adds nothing. */
  private readonly failed = new Set<string>();
  private items = { total: 0, done: 0, failed: 0, started: 0 };
  private lastDecile = -1;
  private barFinished = false;
  private lastBar = '';
  private barShown = false;

  constructor(private readonly options: ProgressOptions) {}

  setTotalItems(total: number): void {
    this.items = { total, done: 0, failed: 0, started: 0 };
    this.barFinished = false;
  }

  /** A line from the job or from the runner, kept clear of the progress bar; a promise while the stream is full. */
  line(text: string): unknown {
    if (!this.barShown) return this.options.write(`${text}\n`);
    const written = this.options.write(`\r\x1b[2K${text}\n`);
    this.barShown = false;
    this.drawBar();
    return written;
  }

  event(e: EventLog): void {
    if ('index' in e && e.index !== undefined && e.type !== 'MapIterationStarted') {
      this.itemEvent(e);
    } else if (e.type === 'MapIterationStarted') {
      if (this.barFinished) return;
      this.items.started++;
      this.drawBar();
    } else {
      const text = this.describe(e);
      if (text !== undefined) this.line(text);
    }
  }

  /** The line for a state's event, if it deserves one (Choice and Pass states pass silently). */
  private describe(e: EventLog): string | undefined {
    const at = e.timestamp;
    switch (e.type) {
      case 'StateEntered':
        this.entered.set(e.state.name, at);
        if (e.state.type === 'Map' && e.state.name === 'FanOut') {
          this.setTotalItems((e.state.input as { items?: unknown[] }).items?.length ?? 0);
        }
        return e.state.type === 'Task' || e.state.type === 'Map' ? `  → ${e.state.name}` : undefined;
      case 'StateExited': {
        const started = this.entered.get(e.state.name) ?? at;
        if (this.failed.delete(e.state.name)) return undefined;
        if (e.state.name === 'PrepareRetry') return `  ↻ ${this.retryText((e.state.output as ItemState).retry)}`;
        if (e.state.type === 'Choice' || e.state.type === 'Pass') return undefined;
        if (e.state.name === 'FanOut') this.finishBar(e.state.output);
        return `  ✓ ${e.state.name.padEnd(18)} ${seconds(at - started)}${detail(e.state.name, e.state.output)}`;
      }
      case 'StateRetried':
        return `  ↻ ${e.state.name} retry ${e.retry.attempt} (${e.retry.retrier.ErrorEquals.join(', ')})`;
      case 'StateFailed': {
        this.failed.add(e.state.name);
        const started = this.entered.get(e.state.name) ?? at;
        const what = e.Error === 'States.Timeout' ? this.timeoutText() : `${e.Error}${shortCause(e.Cause)}`;
        return `  ✗ ${e.state.name.padEnd(18)} ${seconds(at - started)}  ${what}`;
      }
      default:
        return undefined;
    }
  }

  private itemEvent(e: EventLog): void {
    const raw = e.type === 'StateExited' ? e.state.output : 'state' in e ? e.state.input : undefined;
    // ItemSucceeded's output is the plain 'ok' string; every other item state carries the item's data.
    const data = typeof raw === 'object' && raw !== null ? (raw as ItemState) : undefined;
    const label = data && 'item' in data ? itemLabel(data.item) : '';
    if (e.type === 'StateExited' && e.state.name === 'PrepareRetry') {
      this.line(`${label}↻ ${this.retryText(data?.retry)}`);
    } else if (e.type === 'StateEntered' && e.state.name === 'ItemSucceeded') {
      if (this.barFinished) return;
      this.items.done++;
      this.drawBar();
    } else if (e.type === 'StateEntered' && e.state.name === 'ItemFailed') {
      if (!this.barFinished) {
        this.items.done++;
        this.items.failed++;
      }
      const outcome = data?.outcome;
      const exit = typeof outcome?.exitCode === 'number' ? ` (exit ${outcome.exitCode})` : '';
      this.line(`${label}✗ ${outcome?.error ?? 'failed'}${exit}`);
    }
  }

  /**
   * The engine may report an item's last states after the Map's own exit, so the final bar is drawn from the Map's
   * results ('ok' or a failure per item), and later item events no longer change the counts.
   */
  private finishBar(output: unknown): void {
    const results = (output as { results?: unknown[] } | undefined)?.results ?? [];
    this.items = { total: results.length, done: results.length, failed: results.filter((r) => r !== 'ok').length, started: results.length };
    this.drawBar(true);
    this.barFinished = true;
  }

  /** A Distributed Map's final bar, from its map run's counts (items never started are not done). */
  finishFanOut(counts: { Total: number; Succeeded: number; Failed: number; TimedOut: number; Aborted: number }): void {
    const failed = counts.Failed + counts.TimedOut + counts.Aborted;
    this.items = { total: counts.Total, done: counts.Succeeded + failed, failed, started: counts.Succeeded + failed };
    this.drawBar(true);
    this.barFinished = true;
  }

  /** A state's TimeoutSeconds passing (States.Timeout, whose cause says only that) as a sentence. */
  private timeoutText(): string {
    const limit = this.options.timeoutSeconds === undefined ? '' : ` after ${this.options.timeoutSeconds}s`;
    return `timed out${limit} (timeoutSeconds); stopping the task`;
  }

  /**
   * Attempts are numbered from 1 here as everywhere a person reads them (fault lines, summary, notification): after
   * PrepareRetry, $.retry.attempt is the retries so far, so the attempt about to start is that plus 1.
   */
  private retryText(retry: { attempt: number; delay: number } | undefined): string {
    const wait = this.options.skipWaits ? `at once (--skip-waits; would wait ${retry?.delay}s)` : `after ${retry?.delay}s`;
    return `retry ${retry?.attempt}: attempt ${(retry?.attempt ?? 0) + 1} ${wait}`;
  }

  private drawBar(final = false): void {
    const { total, done, failed, started } = this.items;
    if (total === 0) return;
    const running = Math.max(0, started - done);
    const width = 24;
    const filled = Math.round((done / total) * width);
    const bar = `  FanOut [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} done · ${failed} failed · ${running} running`;
    if (this.options.tty) {
      this.options.write(`\r\x1b[2K${bar}${final ? '\n' : ''}`);
      this.barShown = !final;
      return;
    }
    const decile = Math.floor((done / total) * 10);
    if (decile !== this.lastDecile || (final && bar !== this.lastBar)) {
      this.lastDecile = decile;
      this.lastBar = bar;
      this.options.write(`${bar}\n`);
    }
  }
}

function detail(state: string, output: unknown): string {
  const o = output as { reason?: string; run?: boolean } | undefined;
  if (state === 'Precheck' && o?.reason) return `  ${o.run ? 'run' : 'skip'}: ${o.reason}`;
  return '';
}

function shortCause(cause: unknown): string {
  const text = typeof cause === 'string' ? cause : '';
  if (text.startsWith('{')) {
    // The ECS Task object of a failed task: say what the job's container did.
    try {
      const task = JSON.parse(text) as { StopCode?: string; StoppedReason?: string; Containers?: Array<{ Name: string; ExitCode?: number }> };
      const exitCode = jobExitCode(task);
      return exitCode !== undefined ? ` (exit ${exitCode})` : ` (${task.StopCode ?? ''}: ${task.StoppedReason ?? ''})`;
    } catch {
      return '';
    }
  }
  if (!text) return '';
  return `: ${text.length > 160 ? `${text.slice(0, 157)}...` : text}`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
}
