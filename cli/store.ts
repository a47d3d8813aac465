// The local run store: one SQLite database, .stepcron/store.db (node:sqlite, WAL), shared by every `stepcron` process
// started in the project. It keeps each run (status, input, summary), its events and its job's output, answers the
// precheck's "other running executions" and hands out claims. Nothing else reads or writes it.
//
// A RUNNING run holds a lease: its owner process (pid and that process's start time, so a reused pid is not taken for
// it), an expiry past the run's own deadline, and the process groups of the tasks it started. Whoever next starts or
// lists runs recovers a run whose owner is gone: its groups are killed and it ends ABORTED, saying why.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ClaimsPort, ExecutionsPort } from '../handlers/lib/precheck';
import { UsageError } from './errors';

export interface RunRecord {
  job: string;
  stage: string;
  execution: string;
  executionArn: string;
  stateMachineArn: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'SKIPPED' | 'ABORTED';
  pid: number;
  startedAt: string;
  stoppedAt?: string;
  durationMs?: number;
  error?: string;
  /** Why a run was recovered (its stepcron process died). */
  reason?: string;
}

export type Stream = 'stdout' | 'stderr';

/** A run as the console's run strip shows it (Store.recent). */
export interface RecentRun {
  job: string;
  execution: string;
  status: RunRecord['status'];
  startedAt: string;
  stoppedAt?: string;
  durationMs?: number;
  error?: string;
  reason?: string;
  /** The run's cost in USD at list prices, from its summary. */
  cost?: number;
  /** The job container's exit code (a single task's last attempt; null when it never exited). */
  exitCode?: number | null;
  /** The scheduled time the run was started for (a scheduled run's input), to tell a late start. */
  scheduledTime?: string;
}

/** What the run strip takes from a run's summary and input. */
type RunFacts = Pick<RecentRun, 'reason' | 'cost' | 'exitCode' | 'scheduledTime'>;

/** A paused job: who paused it, when (ISO time) and why. */
export interface Pause {
  by: string;
  at: string;
  note: string;
}

/** Finished runs kept per job; older ones are removed as new runs finish, so `stepcron schedule` can run for weeks. */
export const KEEP_RUNS = 200;
/** Job output kept per run and stream: the last 1 MiB (the front is dropped as more arrives). */
export const LOG_CAP_BYTES = 1024 * 1024;
/** A stored event's field (a state's input or output, a cause) longer than this, as JSON, is cut to its head. */
export const EVENT_FIELD_CAP = 4 * 1024;
/** The newest schema this stepcron reads and writes: the number of MIGRATIONS. */
export const SCHEMA_VERSION = 2;
/** Between a run's deadline (the state machine's TimeoutSeconds) and its lease's expiry. */
export const LEASE_SLACK_MS = 5 * 60_000;

/** Events and output are written once per tick (or sooner when this much waits), not once per line. */
const FLUSH_MS = 200;
const FLUSH_EVENTS = 1000;
/** How long a write waits for another stepcron process's transaction before it gives up. */
const BUSY_TIMEOUT_MS = 10_000;

const MIGRATIONS: string[] = [
  `CREATE TABLE runs (
     id INTEGER PRIMARY KEY,
     job TEXT NOT NULL,
     stage TEXT NOT NULL,
     execution TEXT NOT NULL UNIQUE,
     execution_arn TEXT NOT NULL UNIQUE,
     state_machine_arn TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'SKIPPED', 'ABORTED')),
     pid INTEGER NOT NULL,
     started_at TEXT NOT NULL,
     stopped_at TEXT,
     duration_ms INTEGER,
     error TEXT,
     reason TEXT,
     input TEXT,
     summary TEXT,
     stdout_dropped INTEGER NOT NULL DEFAULT 0,
     stderr_dropped INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX runs_by_job ON runs (job, started_at);
   CREATE INDEX runs_running ON runs (state_machine_arn) WHERE status = 'RUNNING';
   -- A RUNNING run's owner: pid + its start time (/proc/<pid>/stat field 22; '' where unknown) and the lease's end.
   CREATE TABLE leases (
     run_id INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
     owner_pid INTEGER NOT NULL,
     owner_start TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   );
   -- The process groups a RUNNING run's tasks run in, with their leader's start time (a pgid can be reused too).
   CREATE TABLE lease_groups (
     run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
     pgid INTEGER NOT NULL,
     leader_start TEXT NOT NULL,
     PRIMARY KEY (run_id, pgid)
   ) WITHOUT ROWID;
   -- Events in batches: raw-deflated JSON lines, one row per write (a 10,000-item run is a few hundred rows).
   CREATE TABLE events (
     run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
     seq INTEGER NOT NULL,
     count INTEGER NOT NULL,
     data BLOB NOT NULL,
     PRIMARY KEY (run_id, seq)
   ) WITHOUT ROWID;
   -- Job output in chunks, stdout and stderr in the order they came; the oldest are cut past LOG_CAP_BYTES.
   CREATE TABLE logs (
     run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
     seq INTEGER NOT NULL,
     stream TEXT NOT NULL CHECK (stream IN ('stdout', 'stderr')),
     data TEXT NOT NULL,
     PRIMARY KEY (run_id, seq)
   ) WITHOUT ROWID;
   CREATE INDEX logs_by_stream ON logs (run_id, stream, seq);
   CREATE TABLE claims (
     key TEXT PRIMARY KEY,
     owner TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX claims_by_expiry ON claims (expires_at);`,
  // `stepcron pause`: a paused job is not fired by `stepcron schedule` until `stepcron resume`; who, when and why.
  `CREATE TABLE pauses (
     stage TEXT NOT NULL,
     job TEXT NOT NULL,
     paused_by TEXT NOT NULL,
     paused_at TEXT NOT NULL,
     note TEXT NOT NULL,
     PRIMARY KEY (stage, job)
   ) WITHOUT ROWID;`,
];

/** A store that cannot be used as it is: exit 2 with this one line (what is wrong, what to do). */
export class StoreError extends UsageError {
  override name = 'StoreError';
}

export interface OpenOptions {
  /**
   * What to do with a store.db that is not a stepcron store (garbage, another program's database): 'fail' says so
   * (history, logs); 'replace' moves it aside to store.db.corrupt-<time> with a warning and starts a new one (run).
   */
  broken?: 'fail' | 'replace';
  /** Warnings, one line each (default: stderr). */
  warn?: (line: string) => void;
  /** Finished runs kept per job. */
  keep?: number;
}

/** Lines of one stream waiting to be written; those before `first` are dropped. */
interface PendingChunk { stream: Stream; lines: string[]; first: number }

export interface LogChunk {
  stream: Stream;
  text: string;
}

/** The part of a run's output the store still holds, and how much of each stream's front it dropped. */
export interface RunLogs {
  chunks: LogChunk[];
  dropped: Record<Stream, number>;
}

/** What a run of this process is writing: batched until the next tick. */
interface Writer {
  id: number;
  abort: (cause: string) => void;
  events: string[];
  eventSeq: number;
  /** Output waiting for the next flush: runs of one stream's lines, in order (lines kept apart, so trimming is cheap). */
  logs: PendingChunk[];
  /** Characters of each stream waiting in `logs` for the next flush. */
  pending: Record<Stream, number>;
  logSeq: number;
  /** Bytes of each stream held in the store (for the cap), and dropped from its front so far. */
  held: Record<Stream, number>;
  dropped: Record<Stream, number>;
  exited: Set<number>;
  /** What a failed write (disk full) lost, not yet marked in the stored output; and all it lost in the run. */
  gap: Unstored;
  lost: Unstored;
  /** The run's reserve file (takeReserve), until its outcome is recorded. */
  reserve: string | undefined;
}

/** Output and events of a run the store could not keep (the disk was full, say), and why. */
export interface Unstored {
  stdoutBytes: number;
  stderrBytes: number;
  events: number;
  /** Why: "the disk was full", or the store's error (locked too long by another process, ...). */
  why?: string;
}
const nothingLost = (): Unstored => ({ stdoutBytes: 0, stderrBytes: 0, events: 0 });
const anyLost = (u: Unstored) => u.stdoutBytes + u.stderrBytes + u.events > 0;

interface Row {
  [column: string]: unknown;
}

export class Store {
  private readonly writers = new Map<string, Writer>();
  private readonly statements = new Map<string, StatementSync>();
  private timer: NodeJS.Timeout | undefined;
  /**
   * What recent() read from finished runs' summaries and inputs, by run id, with the run's end and its summary's size:
   * a finished run's facts change only when it is redriven (a new end) or its summary is written later (a recovered run).
   */
  private readonly facts = new Map<number, { key: string; facts: RunFacts }>();
  private warnedWrite = false;
  /** Numbers this process's reserve files (takeReserve). */
  private reserves = 0;
  /** This process, as a lease names its owner. */
  private readonly self = { pid: process.pid, start: processStartTime(process.pid) ?? '' };

  private constructor(
    private readonly db: DatabaseSync,
    /** The folder the store is in (.stepcron). */
    readonly root: string,
    readonly file: string,
    private readonly keep: number,
    private readonly warn: (line: string) => void,
  ) {}

  /** Opens (creating or upgrading) `<root>/store.db`. Throws StoreError with one line when it cannot. */
  static open(root: string, options: OpenOptions = {}): Store {
    const warn = options.warn ?? ((line: string) => void process.stderr.write(`${line}\n`));
    const { DatabaseSync } = sqlite();
    const shown = displayPath(root);
    try {
      mkdirSync(root, { recursive: true, mode: PRIVATE_DIR });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR') {
        throw new StoreError(`${shown} is a file, not a folder: move it aside (mv ${shown} ${shown}.old) so stepcron can keep its runs there`);
      }
      throw new StoreError(`cannot create ${shown} (${code}): check the permissions of the folder it is in`);
    }
    const file = join(root, 'store.db');
    if (existsSync(file) && statSync(file).isDirectory()) {
      throw new StoreError(`${displayPath(file)} is a folder, not a stepcron run store: move it aside (mv ${displayPath(file)} ${displayPath(file)}.old)`);
    }
    // .stepcron/runs/ is where stepcron kept runs before the store; a stray file of that name is nothing of ours.
    const old = join(root, 'runs');
    if (existsSync(old) && statSync(old).isDirectory()) {
      warn(`stepcron: note: ${displayPath(old)}/ holds runs of an older stepcron, which this one no longer reads (runs are in ${displayPath(file)} now): delete it (rm -r ${displayPath(old)}) when you no longer need them`);
    }
    removeStaleReserves(root);
    const attempt = () => {
      makePrivate(root, file, warn);
      const db = new DatabaseSync(file);
      try {
        configure(db);
        migrate(db, file);
        return db;
      } catch (err) {
        db.close();
        throw err;
      }
    };
    let db: DatabaseSync;
    try {
      db = retryingBusy(attempt);
    } catch (err) {
      const broken = brokenReason(err);
      if (!broken) throw storeError(err, file);
      if (options.broken !== 'replace') {
        throw new StoreError(`${displayPath(file)} is not a stepcron run store (${broken}): delete it (rm ${displayPath(file)}) to start a new one`);
      }
      const aside = `${file}.corrupt-${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
      for (const suffix of ['', '-wal', '-shm']) {
        if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
      }
      warn(`stepcron: warning: ${displayPath(file)} was not a stepcron run store (${broken}): moved it to ${displayPath(aside)} and started a new one`);
      try {
        db = retryingBusy(attempt);
      } catch (again) {
        throw storeError(again, file);
      }
    }
    return new Store(db, root, file, options.keep ?? KEEP_RUNS, warn);
  }

  /**
   * Records a new RUNNING run of this process and its lease, after recovering runs whose owner died. The start time
   * is the record's, moved just past the latest running run of the same state machine if that one was recorded
   * first: the precheck orders runs by start time, so the order runs are recorded in is the order they start in, and
   * of two runs started at once the second to be recorded always sees the first.
   */
  start(record: RunRecord, input: unknown, abort: (cause: string) => void, options: { leaseMs?: number } = {}): RunRecord {
    const reserve = this.takeReserve();
    return this.withReserve(reserve, () => {
      let started = record.startedAt;
      const id = this.transaction(() => {
        this.recoverDead();
        const last = this.sql("SELECT MAX(started_at) AS last FROM runs WHERE state_machine_arn = ? AND status = 'RUNNING'")
          .get(record.stateMachineArn)?.last;
        if (typeof last === 'string' && last >= started) started = new Date(Date.parse(last) + 1).toISOString();
        const { lastInsertRowid } = this.sql(`INSERT INTO runs (job, stage, execution, execution_arn, state_machine_arn, status,
            pid, started_at, input) VALUES (?, ?, ?, ?, ?, 'RUNNING', ?, ?, ?)`)
          .run(record.job, record.stage, record.execution, record.executionArn, record.stateMachineArn, record.pid, started,
            JSON.stringify(input) ?? null);
        this.lease(Number(lastInsertRowid), options.leaseMs);
        return Number(lastInsertRowid);
      });
      this.track(record, abort, reserve, { id, eventSeq: 0, logSeq: 0, held: { stdout: 0, stderr: 0 }, dropped: { stdout: 0, stderr: 0 } });
      return { ...record, startedAt: started };
    });
  }

  /**
   * A redrive: the ended run `record` is RUNNING again under a new lease of this process, as Step Functions keeps the
   * execution's ARN, history and start time. Its events and output go on after what it stored; undefined when it is
   * no longer FAILED, TIMED_OUT or ABORTED (another redrive took it first).
   */
  reopen(record: RunRecord, abort: (cause: string) => void, options: { leaseMs?: number } = {}): RunRecord | undefined {
    const reserve = this.takeReserve();
    return this.withReserve(reserve, () => {
      const found = this.transaction(() => {
        this.recoverDead();
        const row = this.sql(`SELECT id, stdout_dropped, stderr_dropped FROM runs WHERE execution_arn = ? AND status IN ('FAILED', 'TIMED_OUT', 'ABORTED')`)
          .get(record.executionArn);
        if (!row) return undefined;
        const id = Number(row.id);
        this.sql(`UPDATE runs SET status = 'RUNNING', pid = ?, stopped_at = NULL, duration_ms = NULL, error = NULL, reason = NULL
            WHERE id = ?`).run(record.pid, id);
        this.lease(id, options.leaseMs);
        const events = this.sql('SELECT COALESCE(MAX(seq + count), 0) AS next FROM events WHERE run_id = ?').get(id);
        const logs = this.sql(`SELECT COALESCE(MAX(seq) + 1, 0) AS next,
            COALESCE(SUM(CASE WHEN stream = 'stdout' THEN length(CAST(data AS BLOB)) END), 0) AS stdout,
            COALESCE(SUM(CASE WHEN stream = 'stderr' THEN length(CAST(data AS BLOB)) END), 0) AS stderr FROM logs WHERE run_id = ?`).get(id);
        return {
          id, eventSeq: Number(events?.next ?? 0), logSeq: Number(logs?.next ?? 0),
          held: { stdout: Number(logs?.stdout ?? 0), stderr: Number(logs?.stderr ?? 0) },
          dropped: { stdout: Number(row.stdout_dropped), stderr: Number(row.stderr_dropped) },
        };
      });
      if (!found) {
        rmSync(reserve, { force: true });
        return undefined;
      }
      this.track(record, abort, reserve, found);
      return { ...record, status: 'RUNNING' };
    });
  }

  /** Inside a write transaction: run `id` is this process's until `leaseMs` (and the slack) from now. */
  private lease(id: number, leaseMs = 24 * 3_600_000): void {
    this.sql('INSERT INTO leases (run_id, owner_pid, owner_start, expires_at) VALUES (?, ?, ?, ?)')
      .run(id, this.self.pid, this.self.start, Date.now() + leaseMs + LEASE_SLACK_MS);
  }

  /** The run's events and output are batched from now on, from where its rows stand. */
  private track(record: RunRecord, abort: (cause: string) => void, reserve: string,
    at: Pick<Writer, 'id' | 'eventSeq' | 'logSeq' | 'held' | 'dropped'>): void {
    this.writers.set(record.executionArn, {
      ...at, abort, events: [], logs: [], pending: { stdout: 0, stderr: 0 }, exited: new Set(), gap: nothingLost(), lost: nothingLost(), reserve,
    });
    this.timer ??= setInterval(() => this.flush(), FLUSH_MS).unref();
  }

  /** An engine event, stored compactly (see compactEvent) with the next batch. */
  event(record: RunRecord, event: unknown): void {
    const writer = this.writers.get(record.executionArn);
    if (!writer) return;
    writer.events.push(compactEvent(event));
    if (writer.events.length >= FLUSH_EVENTS) this.flush();
  }

  /** A line of the job's output, as labelled by the runner (fan-out item, attempt). */
  output(record: RunRecord, stream: Stream, line: string): void {
    const writer = this.writers.get(record.executionArn);
    if (!writer) return;
    const text = `${line}\n`;
    const last = writer.logs.at(-1);
    if (last?.stream === stream) last.lines.push(text);
    else writer.logs.push({ stream, lines: [text], first: 0 });
    writer.pending[stream] += text.length;
    // Flushed every FLUSH_MS; meanwhile what the cap would drop anyway is dropped here, never written and deleted.
    if (writer.pending[stream] > 2 * LOG_CAP_BYTES) trimPending(writer, stream);
  }

  /** A task of the run started in process group `pgid`: written at once, so a kill -9 right after cannot lose it. */
  spawned(record: RunRecord, pgid: number): void {
    const writer = this.writers.get(record.executionArn);
    if (!writer) return;
    writer.exited.delete(pgid);
    this.write(() => this.sql('INSERT OR REPLACE INTO lease_groups (run_id, pgid, leader_start) VALUES (?, ?, ?)')
      .run(writer.id, pgid, processStartTime(pgid) ?? ''));
  }

  /** The task's group is gone: forgotten with the next batch (recovery checks a group's leader before killing it). */
  exited(record: RunRecord, pgid: number): void {
    this.writers.get(record.executionArn)?.exited.add(pgid);
  }

  /**
   * Records how the run ended. A full disk never changes that: what it kept the store from writing (output, events) is
   * returned, marked where it is missing in the stored output, and recorded in the summary; the outcome itself is
   * written in the space of the run's own reserve (see takeReserve), and without the summary if even that is short.
   */
  finish(record: RunRecord, summary: unknown): { unstored?: Unstored } {
    const writer = this.writers.get(record.executionArn);
    this.flush();
    this.writers.delete(record.executionArn);
    if (this.writers.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    if (!writer) return {};
    const unstored = anyLost(writer.lost) ? { ...writer.lost } : undefined;
    const at = { logSeq: writer.logSeq, held: { ...writer.held }, gap: { ...writer.gap } };
    const end = (keepSummary: boolean) => this.transaction(() => {
      // Each attempt from where the run's rows stand (a failed one is rolled back).
      Object.assign(writer, { logSeq: at.logSeq, held: { ...at.held }, gap: { ...at.gap } });
      this.markGap(writer);
      const summaryJson = keepSummary ? JSON.stringify(unstored ? { ...(summary as object), unstored } : summary) ?? null : null;
      const { changes } = this.sql(`UPDATE runs SET status = ?, stopped_at = ?, duration_ms = ?, error = ?, summary = ?
          WHERE id = ? AND status = 'RUNNING'`)
        .run(record.status, record.stoppedAt ?? new Date().toISOString(), record.durationMs ?? null, record.error ?? null,
          summaryJson, writer.id);
      // A run recovered meanwhile (its lease expired) stays ABORTED with its reason; its summary is kept all the same.
      if (changes === 0) this.sql('UPDATE runs SET summary = ? WHERE id = ?').run(summaryJson, writer.id);
      this.sql('DELETE FROM leases WHERE run_id = ?').run(writer.id);
      this.sql('DELETE FROM lease_groups WHERE run_id = ?').run(writer.id);
      this.prune(record.job);
    });
    this.guard(() => {
      try {
        end(true);
      } catch (err) {
        if (!isDiskFull(err, this.root)) throw err;
        // The disk filled up: the run's reserve is kept for this write (other runs of this process keep theirs).
        releaseReserve(writer);
        try {
          end(true);
        } catch (again) {
          if (!isDiskFull(again, this.root)) throw again;
          end(false);
        }
      }
    });
    releaseReserve(writer);
    return unstored ? { unstored } : {};
  }

  /** Runs newest first, after recovering those whose stepcron process died. */
  list(job?: string): RunRecord[] {
    return this.guard(() => {
      this.recover();
      const rows = job === undefined
        ? this.sql(`SELECT ${RECORD_COLUMNS} FROM runs ORDER BY started_at DESC, id DESC`).all()
        : this.sql(`SELECT ${RECORD_COLUMNS} FROM runs WHERE job = ? ORDER BY started_at DESC, id DESC`).all(job);
      return rows.map(toRecord);
    });
  }

  /**
   * The newest `perJob` runs of each of `jobs` on `stage`, newest first, for the console's jobs page: one query that
   * reads each job's rows from its index (runs_by_job) newest first and stops at `perJob`, so a job's older runs are
   * never read, and takes from each run's summary only what a run strip shows (reason, cost, exit code), in SQLite.
   */
  recent(stage: string, jobs: string[], perJob: number): Map<string, RecentRun[]> {
    return this.guard(() => {
      this.recover();
      const byJob = new Map<string, RecentRun[]>();
      const rows = this.sql(`SELECT r.id, r.job, r.execution, r.status, r.started_at, r.stopped_at, r.duration_ms, r.error, r.reason,
            octet_length(r.summary) AS summary_bytes
          FROM json_each(?3) AS j
          JOIN runs AS r ON r.id IN (SELECT id FROM runs WHERE job = j.value AND stage = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2)
          ORDER BY j.key, r.started_at DESC, r.id DESC`).all(stage, perJob, JSON.stringify(jobs));
      const facts = this.runFacts(rows);
      for (const row of rows) {
        const job = String(row.job);
        const list = byJob.get(job) ?? [];
        if (list.length === 0) byJob.set(job, list);
        const { reason, cost, exitCode, scheduledTime } = facts.get(Number(row.id)) ?? {};
        const why = reason ?? row.reason;
        list.push({
          job,
          execution: String(row.execution),
          status: String(row.status) as RunRecord['status'],
          startedAt: String(row.started_at),
          ...(row.stopped_at !== null && { stoppedAt: String(row.stopped_at) }),
          ...(row.duration_ms !== null && { durationMs: Number(row.duration_ms) }),
          ...(row.error !== null && { error: String(row.error) }),
          ...(typeof why === 'string' && why && { reason: why }),
          ...(cost !== undefined && { cost }),
          ...(exitCode !== undefined && { exitCode }),
          ...(scheduledTime !== undefined && { scheduledTime }),
        });
      }
      return byJob;
    });
  }

  /**
   * Each run's facts from its summary and input (the summary's reason, cost and single task's exit code, the scheduled
   * time), read once per finished run: one json_extract per document (each parsed once), json_valid first so that a
   * hand-edited row cannot fail the page. A running run is read each time (it has no summary yet).
   */
  private runFacts(rows: Row[]): Map<number, RunFacts> {
    const found = new Map<number, RunFacts>();
    const missing: number[] = [];
    for (const row of rows) {
      const id = Number(row.id);
      const kept = this.facts.get(id);
      if (kept && row.stopped_at !== null && kept.key === `${row.stopped_at} ${row.summary_bytes}`) found.set(id, kept.facts);
      else missing.push(id);
    }
    if (missing.length === 0) return found;
    const read = this.sql(`SELECT id, stopped_at, octet_length(summary) AS summary_bytes,
        CASE WHEN json_valid(summary) THEN json_extract(summary, '$.reason', '$.cost.totalUsd', '$.items.total', '$.tasks[#-1]') END AS facts,
        CASE WHEN json_valid(input) THEN json_extract(input, '$.scheduledTime') END AS scheduled_time
      FROM runs WHERE id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(missing));
    // A store read for weeks by one console: its cache is dropped whole now and then rather than tracked run by run.
    if (this.facts.size > 200_000) this.facts.clear();
    for (const row of read) {
      const [reason, cost, items, task] = typeof row.facts === 'string' ? parseOr(row.facts) as unknown[] : [];
      const lastTask = task !== null && typeof task === 'object' ? task as { exitCode?: number | null } : undefined;
      const facts: RunFacts = {
        ...(typeof reason === 'string' && { reason }),
        ...(typeof cost === 'number' && { cost }),
        // A single task's exit code, as the run summary has it (a fan-out's are its items').
        ...(items === null && lastTask && 'exitCode' in lastTask && { exitCode: lastTask.exitCode ?? null }),
        ...(typeof row.scheduled_time === 'string' && { scheduledTime: row.scheduled_time }),
      };
      found.set(Number(row.id), facts);
      if (row.stopped_at !== null) this.facts.set(Number(row.id), { key: `${row.stopped_at} ${row.summary_bytes}`, facts });
    }
    return found;
  }

  /**
   * Changes whenever anything is written to the store (a run starts, ends, writes output; a pause is set or lifted),
   * by this process or another: the console asks it every 2 s and reloads its page only when it changed. Two counters
   * SQLite keeps (no table is read), after recovering runs whose stepcron process died (which writes, if any).
   */
  version(): string {
    return this.guard(() => {
      this.recover();
      const others = this.sql('PRAGMA data_version').get()?.data_version;
      const own = this.sql('SELECT total_changes() AS n').get()?.n;
      return `${others}-${own}`;
    });
  }

  /** One run of a job: the given execution, or the latest. */
  find(job: string, execution?: string): RunRecord | undefined {
    return this.guard(() => {
      this.recover();
      const row = execution === undefined
        ? this.sql(`SELECT ${RECORD_COLUMNS} FROM runs WHERE job = ? ORDER BY started_at DESC, id DESC LIMIT 1`).get(job)
        : this.sql(`SELECT ${RECORD_COLUMNS} FROM runs WHERE job = ? AND execution = ?`).get(job, execution);
      return row && toRecord(row);
    });
  }

  /** The output a run's job wrote, in order, as far as the store keeps it (the last LOG_CAP_BYTES per stream). */
  logs(execution: string): RunLogs {
    return this.guard(() => {
      this.flush();
      const run = this.sql('SELECT id, stdout_dropped, stderr_dropped FROM runs WHERE execution = ?').get(execution);
      if (!run) return { chunks: [], dropped: { stdout: 0, stderr: 0 } };
      const chunks = this.sql('SELECT stream, data FROM logs WHERE run_id = ? ORDER BY seq').all(run.id as number)
        .map((r) => ({ stream: r.stream === 'stderr' ? 'stderr' : 'stdout', text: String(r.data) }) satisfies LogChunk);
      return { chunks, dropped: { stdout: Number(run.stdout_dropped) || 0, stderr: Number(run.stderr_dropped) || 0 } };
    });
  }

  /** The summary a finished run was recorded with (cli/run.ts Summary), or undefined while it runs. */
  summary(execution: string): unknown {
    return this.guard(() => {
      const row = this.sql('SELECT summary FROM runs WHERE execution = ?').get(execution);
      return typeof row?.summary === 'string' ? parseOr(row.summary) : undefined;
    });
  }

  /** A run's stored events, in order; a batch that cannot be read is reported in its place, never thrown. */
  events(execution: string): unknown[] {
    return this.guard(() => {
      this.flush();
      const rows = this.sql('SELECT e.data FROM events e JOIN runs r ON r.id = e.run_id WHERE r.execution = ? ORDER BY e.seq')
        .all(execution);
      return rows.flatMap((row) => {
        try {
          return inflateRawSync(row.data as Uint8Array).toString('utf8').split('\n').filter(Boolean).map(parseOr);
        } catch (err) {
          return [{ unreadable: `an event batch could not be read (${(err as Error).message})` }];
        }
      });
    });
  }

  /** The precheck's view of "other executions of this state machine", served from the store. */
  executions(): ExecutionsPort {
    return {
      listRunning: async (stateMachineArn) => this.guard(() => {
        this.recover();
        return this.sql(`SELECT execution_arn, execution, started_at FROM runs WHERE state_machine_arn = ? AND status = 'RUNNING'`)
          .all(stateMachineArn)
          .map((r) => ({ executionArn: String(r.execution_arn), name: String(r.execution), startDate: new Date(String(r.started_at)) }));
      }),
      stop: async (executionArn, cause) => {
        const local = this.writers.get(executionArn);
        if (local) return local.abort(cause);
        const owner = this.guard(() => this.sql(`SELECT l.owner_pid, l.owner_start FROM leases l JOIN runs r ON r.id = l.run_id
            WHERE r.execution_arn = ? AND r.status = 'RUNNING'`).get(executionArn));
        // Another `stepcron` process: SIGTERM makes it abort its run and stop its tasks.
        if (owner && ownerAlive(Number(owner.owner_pid), String(owner.owner_start))) process.kill(Number(owner.owner_pid), 'SIGTERM');
      },
    };
  }

  /**
   * Claims `key` for `owner` until `ttlMs` from now, if nobody holds an unexpired claim on it, or `owner` does (that
   * renews it), or `from` does (a hand-over). Returns the owner holding it afterwards: `owner` when the claim was won.
   */
  claim(key: string, owner: string, ttlMs: number, from?: string): string {
    return this.guard(() => this.transaction(() => {
      const now = Date.now();
      this.sql('DELETE FROM claims WHERE expires_at <= ?').run(now);
      const held = this.sql('SELECT owner FROM claims WHERE key = ?').get(key);
      if (held && held.owner !== owner && (from === undefined || held.owner !== from)) return String(held.owner);
      this.sql('INSERT OR REPLACE INTO claims (key, owner, expires_at) VALUES (?, ?, ?)').run(key, owner, now + ttlMs);
      return owner;
    }));
  }

  /** Gives up `owner`'s claim on `key`: false if `owner` did not hold it (another owner's claim is left alone). */
  release(key: string, owner: string): boolean {
    return this.guard(() => this.sql('DELETE FROM claims WHERE key = ? AND owner = ? AND expires_at > ?')
      .run(key, owner, Date.now()).changes > 0);
  }

  /** Who holds `key` now (an expired claim is nobody's). */
  holder(key: string): string | undefined {
    return this.guard(() => {
      const held = this.sql('SELECT owner FROM claims WHERE key = ? AND expires_at > ?').get(key, Date.now());
      return held === undefined ? undefined : String(held.owner);
    });
  }

  /** The precheck's claims (one run per scheduled time, the buffer's waiting place), served from the store. */
  claimsPort(): ClaimsPort {
    return {
      claim: async (key, owner, ttlMs, from) => this.claim(key, owner, ttlMs, from),
      release: async (key, owner) => this.release(key, owner),
      holder: async (key) => this.holder(key),
    };
  }

  /** Pauses a job on a stage (again: the newer note replaces the older). */
  pause(stage: string, job: string, pause: Pause): void {
    this.guard(() => this.sql('INSERT OR REPLACE INTO pauses (stage, job, paused_by, paused_at, note) VALUES (?, ?, ?, ?, ?)')
      .run(stage, job, pause.by, pause.at, pause.note));
  }

  /** Resumes a job: the pause it had, or undefined if it was not paused. */
  resume(stage: string, job: string): Pause | undefined {
    return this.guard(() => this.transaction(() => {
      const found = this.paused(stage).get(job);
      this.sql('DELETE FROM pauses WHERE stage = ? AND job = ?').run(stage, job);
      return found;
    }));
  }

  /** The stage's paused jobs, by name. */
  paused(stage: string): Map<string, Pause> {
    return this.guard(() => new Map(this.sql('SELECT job, paused_by, paused_at, note FROM pauses WHERE stage = ?').all(stage)
      .map((r) => [String(r.job), { by: String(r.paused_by), at: String(r.paused_at), note: String(r.note) }])));
  }

  close(): void {
    this.flush();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.db.close();
    for (const writer of this.writers.values()) releaseReserve(writer);
  }

  /**
   * Space kept aside for recording how a run ends: a file of RESERVE_BYTES in the store's folder per run of this
   * process, taken before the run is recorded and deleted once its outcome is (or, when the disk is full, just before,
   * to make room for it). One per run, not per process: runs that end on a full disk one after another (`stepcron
   * schedule`) each have their own. A run whose outcome could not be recorded is not started: that is a StoreError
   * saying the disk is full. Those of a process that died are deleted by the next store opened (removeStaleReserves).
   */
  private takeReserve(): string {
    const file = join(this.root, `${RESERVE_PREFIX}${process.pid}-${++this.reserves}`);
    try {
      writeFileSync(file, Buffer.alloc(RESERVE_BYTES), { mode: PRIVATE_FILE });
      return file;
    } catch (err) {
      rmSync(file, { force: true });
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC' || (err as NodeJS.ErrnoException).code === 'EDQUOT') throw new StoreError(diskFullMessage(this.file));
      throw storeError(err, this.file);
    }
  }

  /** `fn` (recording a run) as guard does; a run that is not recorded gives its reserve back. */
  private withReserve<T>(reserve: string, fn: () => T): T {
    try {
      return this.guard(fn);
    } catch (err) {
      rmSync(reserve, { force: true });
      throw err;
    }
  }

  /** Inside a write transaction: a line in the stored output where output was lost, saying how much of what. */
  private markGap(writer: Writer): void {
    const { gap } = writer;
    if (!anyLost(gap)) return;
    const parts = [
      gap.stdoutBytes && `${gap.stdoutBytes} bytes of stdout`, gap.stderrBytes && `${gap.stderrBytes} bytes of stderr`, gap.events && `${gap.events} events`,
    ].filter(Boolean);
    const text = `[stepcron: ${parts.join(', ')} of this run could not be stored here: ${gap.why ?? 'the disk was full'}]\n`;
    this.sql('INSERT INTO logs (run_id, seq, stream, data) VALUES (?, ?, ?, ?)').run(writer.id, writer.logSeq++, 'stderr', text);
    writer.held.stderr += Buffer.byteLength(text);
    writer.gap = nothingLost();
  }

  /** Writes what the runs of this process have batched, in one transaction. */
  private flush(): void {
    const busy = [...this.writers.values()].filter((w) => w.events.length || w.logs.length || w.exited.size);
    if (busy.length === 0) return;
    // A failed write is rolled back: so are the counters it moved (or `logs` would report output dropped that was lost).
    const before = busy.map((w) => ({ eventSeq: w.eventSeq, logSeq: w.logSeq, held: { ...w.held }, dropped: { ...w.dropped }, gap: { ...w.gap } }));
    const written = this.write(() => this.transaction(() => {
      for (const writer of busy) {
        this.markGap(writer);
        if (writer.events.length) {
          this.sql('INSERT INTO events (run_id, seq, count, data) VALUES (?, ?, ?, ?)')
            .run(writer.id, writer.eventSeq, writer.events.length, deflateRawSync(`${writer.events.join('\n')}\n`));
          writer.eventSeq += writer.events.length;
        }
        for (const chunk of writer.logs) {
          if (chunk.first < chunk.lines.length) this.appendLog(writer, { stream: chunk.stream, text: chunk.lines.slice(chunk.first).join('') });
        }
        for (const pgid of writer.exited) this.sql('DELETE FROM lease_groups WHERE run_id = ? AND pgid = ?').run(writer.id, pgid);
      }
    }));
    if (written !== true) {
      const why = isDiskFull(written, this.root) ? 'the disk was full' : `the store could not be written (${(written as Error)?.message})`;
      busy.forEach((writer, i) => {
        Object.assign(writer, before[i]!);
        const lost: Unstored = { stdoutBytes: 0, stderrBytes: 0, events: writer.events.length };
        for (const chunk of writer.logs) {
          const bytes = chunk.lines.slice(chunk.first).reduce((n, line) => n + Buffer.byteLength(line), 0);
          if (chunk.stream === 'stdout') lost.stdoutBytes += bytes;
          else lost.stderrBytes += bytes;
        }
        for (const into of [writer.gap, writer.lost]) {
          into.stdoutBytes += lost.stdoutBytes;
          into.stderrBytes += lost.stderrBytes;
          into.events += lost.events;
          into.why = why;
        }
      });
    }
    // Written or given up on: either way it is not written twice.
    for (const writer of busy) {
      writer.events = [];
      writer.logs = [];
      writer.pending = { stdout: 0, stderr: 0 };
      writer.exited.clear();
    }
  }

  /** Appends a chunk of a stream, then drops that stream's oldest output beyond LOG_CAP_BYTES. */
  private appendLog(writer: Writer, chunk: LogChunk): void {
    const { stream } = chunk;
    const cut = tail(chunk.text, LOG_CAP_BYTES, true);
    writer.dropped[stream] += cut.dropped;
    this.sql('INSERT INTO logs (run_id, seq, stream, data) VALUES (?, ?, ?, ?)').run(writer.id, writer.logSeq++, stream, cut.text);
    writer.held[stream] += Buffer.byteLength(cut.text);
    while (writer.held[stream] > LOG_CAP_BYTES) {
      // Its size first: a chunk that goes whole is never read back.
      const oldest = this.sql('SELECT seq, length(CAST(data AS BLOB)) AS bytes FROM logs WHERE run_id = ? AND stream = ? ORDER BY seq LIMIT 1')
        .get(writer.id, stream);
      if (!oldest) break;
      const bytes = Number(oldest.bytes);
      const excess = writer.held[stream] - LOG_CAP_BYTES;
      if (excess >= bytes) {
        this.sql('DELETE FROM logs WHERE run_id = ? AND seq = ?').run(writer.id, oldest.seq as number);
        writer.held[stream] -= bytes;
        writer.dropped[stream] += bytes;
      } else {
        // The oldest chunk loses its front, up to the next whole line (its last line cut in half goes too).
        const data = String(this.sql('SELECT data FROM logs WHERE run_id = ? AND seq = ?').get(writer.id, oldest.seq as number)?.data ?? '');
        const kept = tail(data, bytes - excess, false);
        if (kept.text) this.sql('UPDATE logs SET data = ? WHERE run_id = ? AND seq = ?').run(kept.text, writer.id, oldest.seq as number);
        else this.sql('DELETE FROM logs WHERE run_id = ? AND seq = ?').run(writer.id, oldest.seq as number);
        writer.held[stream] -= kept.dropped;
        writer.dropped[stream] += kept.dropped;
      }
    }
    this.sql(`UPDATE runs SET ${stream}_dropped = ? WHERE id = ?`).run(writer.dropped[stream], writer.id);
  }

  /** Keeps the newest `keep` finished runs of a job; their events and output go with them. */
  private prune(job: string): void {
    this.sql(`DELETE FROM runs WHERE job = ? AND status != 'RUNNING' AND id NOT IN (
        SELECT id FROM runs WHERE job = ? AND status != 'RUNNING' ORDER BY started_at DESC, id DESC LIMIT ?)`)
      .run(job, job, this.keep);
  }

  /** Recovers dead runs if there are any; a read when there are none. */
  private recover(): void {
    if (this.deadRuns().length) this.transaction(() => this.recoverDead());
  }

  /** Inside a write transaction: every RUNNING run whose owner died or whose lease expired ends ABORTED. */
  private recoverDead(): void {
    const now = new Date();
    for (const run of this.deadRuns(now.getTime())) {
      for (const group of this.sql('SELECT pgid, leader_start FROM lease_groups WHERE run_id = ?').all(run.id)) {
        killGroup(Number(group.pgid), String(group.leader_start));
      }
      const reason = run.expired && run.alive
        ? `the run's lease expired at ${new Date(run.expiresAt).toISOString()} (its stepcron process, pid ${run.pid}, outlived the run's deadline): run recovered at ${now.toISOString()}`
        : `the stepcron process (pid ${run.pid}) died: run recovered at ${now.toISOString()}`;
      this.sql(`UPDATE runs SET status = 'ABORTED', stopped_at = ?, reason = ?, error = 'stepcron.OwnerDied' WHERE id = ? AND status = 'RUNNING'`)
        .run(now.toISOString(), reason, run.id);
      this.sql('DELETE FROM leases WHERE run_id = ?').run(run.id);
      this.sql('DELETE FROM lease_groups WHERE run_id = ?').run(run.id);
    }
  }

  private deadRuns(now = Date.now()) {
    const running = this.sql(`SELECT r.id, r.pid, l.owner_pid, l.owner_start, l.expires_at FROM runs r
        LEFT JOIN leases l ON l.run_id = r.id WHERE r.status = 'RUNNING'`).all();
    return running.map((r) => {
      const pid = Number(r.owner_pid ?? r.pid);
      const expiresAt = Number(r.expires_at ?? 0);
      const alive = r.owner_pid !== null && ownerAlive(pid, String(r.owner_start));
      return { id: Number(r.id), pid, alive, expiresAt, expired: expiresAt <= now };
    }).filter((r) => !r.alive || r.expired);
  }

  /** Statements are compiled once per store: compiling is most of the cost of a small one. */
  private sql(text: string): StatementSync {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }

  /** A write made while a run goes on: if it fails (disk full, locked too long), the run goes on unrecorded. */
  private write(fn: () => void): true | unknown {
    try {
      fn();
      return true;
    } catch (err) {
      if (this.warnedWrite) return err;
      this.warnedWrite = true;
      const why = isDiskFull(err, this.root) ? diskFullMessage(this.file) : `could not write to ${displayPath(this.file)} (${(err as Error).message})`;
      this.warn(`stepcron: warning: ${why}; the run goes on, and its outcome will be recorded, but some of its output or events will not`);
      return err;
    }
  }

  /** SQLite's failures as one line each. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw storeError(err, this.file);
    }
  }
}

const RECORD_COLUMNS = 'job, stage, execution, execution_arn, state_machine_arn, status, pid, started_at, stopped_at, duration_ms, error, reason';

/** A row as a RunRecord; typed columns are CHECKed by the schema, but a hand-edited row still must not break a listing. */
function toRecord(row: Row): RunRecord {
  const text = (v: unknown) => (v === null || v === undefined ? undefined : String(v));
  return {
    job: String(row.job),
    stage: String(row.stage),
    execution: String(row.execution),
    executionArn: String(row.execution_arn),
    stateMachineArn: String(row.state_machine_arn),
    // Shown as it is, whatever it is: only RUNNING means anything to the precheck, and it is matched in SQL.
    status: String(row.status) as RunRecord['status'],
    pid: Number(row.pid),
    startedAt: String(row.started_at),
    ...(text(row.stopped_at) !== undefined && { stoppedAt: text(row.stopped_at)! }),
    ...(typeof row.duration_ms === 'number' && { durationMs: row.duration_ms }),
    ...(text(row.error) !== undefined && { error: text(row.error)! }),
    ...(text(row.reason) !== undefined && { reason: text(row.reason)! }),
  };
}

function parseOr(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return { unreadable: line.slice(0, 200) };
  }
}

/**
 * An event as the store keeps it, as JSON: every field of the event and of its state longer than EVENT_FIELD_CAP as
 * JSON is replaced by `{ cutBytes, head }`, so one event stays a few KB whatever the Map's items; a StateExited keeps
 * its output only (the input is in the StateEntered before it), as AWS's *StateExited events do.
 */
export function compactEvent(event: unknown): string {
  if (!isObject(event)) return JSON.stringify(capped(event)) ?? 'null';
  const state = event.state;
  const shown = event.type === 'StateExited' && isObject(state) && 'input' in state
    ? { ...event, state: Object.fromEntries(Object.entries(state).filter(([k]) => k !== 'input')) } : event;
  // Most events are small: one stringify, and only a long one is taken apart.
  const json = JSON.stringify(shown);
  if (json.length <= EVENT_FIELD_CAP) return json;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(shown)) {
    out[key] = key === 'state' && isObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, capped(v)])) : capped(value);
  }
  return JSON.stringify(out);
}

function capped(value: unknown): unknown {
  const json = JSON.stringify(value);
  if (json === undefined || json.length <= EVENT_FIELD_CAP) return value;
  return { cutBytes: Buffer.byteLength(json), head: json.slice(0, EVENT_FIELD_CAP / 4) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Keeps about the last LOG_CAP_BYTES of a stream's output waiting to be written: its oldest lines go, and are counted
 * as dropped, as the store's cap counts them (a line at a time, so what is kept starts a line).
 */
function trimPending(writer: Writer, stream: Stream): void {
  for (const chunk of writer.logs) {
    if (chunk.stream !== stream) continue;
    while (chunk.first < chunk.lines.length && writer.pending[stream] - chunk.lines[chunk.first]!.length >= LOG_CAP_BYTES) {
      const line = chunk.lines[chunk.first++]!;
      writer.pending[stream] -= line.length;
      writer.dropped[stream] += Buffer.byteLength(line);
    }
    // The dropped lines' slots are given back now and then, not one shift at a time.
    if (chunk.first > 4096 && chunk.first * 2 > chunk.lines.length) {
      chunk.lines = chunk.lines.slice(chunk.first);
      chunk.first = 0;
    }
    if (chunk.first < chunk.lines.length) break;
  }
  writer.logs = writer.logs.filter((c) => c.first < c.lines.length);
}

/**
 * At most the last `max` bytes of `text`, from the start of a line. When no line starts in them (one long last line),
 * `partial` keeps that line's end from a whole character; otherwise nothing is kept.
 */
function tail(text: string, max: number, partial: boolean): { text: string; dropped: number } {
  // UTF-8 is at most 3 bytes per UTF-16 unit: a short text is not copied to be measured.
  if (text.length * 3 <= max || Buffer.byteLength(text) <= max) return { text, dropped: 0 };
  const bytes = Buffer.from(text);
  let start = bytes.length - max;
  if (bytes[start - 1] !== 0x0a) {
    const newline = bytes.indexOf(0x0a, start);
    if (newline !== -1 && newline + 1 < bytes.length) start = newline + 1;
    else if (!partial) start = bytes.length;
    else while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  }
  return { text: bytes.subarray(start).toString('utf8'), dropped: start };
}

/** Linux: every process has a /proc/<pid>/stat; elsewhere only kill(pid, 0) tells whether a pid is alive. */
const hasProc = existsSync('/proc/self/stat');

/**
 * A process's start time in clock ticks since boot (Linux: field 22 of /proc/<pid>/stat), which tells a process from
 * a later one that got its pid; '' where it cannot be told (no /proc); undefined when there is no such process.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2, the command name, is in parentheses and may hold spaces: count from after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie has exited; only its parent has not collected it yet.
    if (fields[0] === 'Z') return undefined;
    return fields[19] ?? '';
  } catch {
    if (hasProc) return undefined;
    try {
      process.kill(pid, 0);
      return '';
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM' ? '' : undefined;
    }
  }
}

/** The lease's owner still runs: its pid is alive and is the same process (same start time, where that is known). */
export function ownerAlive(pid: number, start: string): boolean {
  const now = processStartTime(pid);
  return now !== undefined && (start === '' || now === '' || now === start);
}

/**
 * SIGKILLs a dead run's process group, unless its leader's pid now names another process: Linux reuses no pid while
 * a group of that id has members, so then the group is gone and the pid belongs to someone else.
 */
function killGroup(pgid: number, leaderStart: string): void {
  const now = processStartTime(pgid);
  if (now !== undefined && now !== '' && leaderStart !== '' && now !== leaderStart) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** The store keeps job output (a secret a job prints among it): its folder and files are its owner's alone. */
const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

/**
 * Makes the store private before SQLite opens it: the folder 0700, store.db created 0600 (SQLite gives its -wal and
 * -shm the database's mode), and a store made before this (0755 and 0644 under a usual umask) tightened. A store in a
 * folder of someone else's cannot be changed: said once, and used as it is.
 */
function makePrivate(root: string, file: string, warn: (line: string) => void): void {
  try {
    if ((statSync(root).mode & 0o777) !== PRIVATE_DIR) chmodSync(root, PRIVATE_DIR);
    closeSync(openSync(file, 'a', PRIVATE_FILE));
    for (const suffix of ['', '-wal', '-shm']) {
      const mode = statSync(file + suffix, { throwIfNoEntry: false })?.mode;
      try {
        if (mode !== undefined && (mode & 0o777) !== PRIVATE_FILE) chmodSync(file + suffix, PRIVATE_FILE);
      } catch (err) {
        // Another stepcron process's last close removed its WAL files meanwhile: nothing left to tighten.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  } catch (err) {
    warn(`stepcron: warning: cannot make ${displayPath(root)} private to you (${(err as NodeJS.ErrnoException).code}): other users may read the job output it keeps; chmod 700 ${displayPath(root)} and 600 its files`);
  }
}

/** node:sqlite, loaded when a store is opened: it exists on Node >= 22.13 only (the project's Node is 24). */
function sqlite(): typeof import('node:sqlite') {
  const found = process.getBuiltinModule?.('node:sqlite') as typeof import('node:sqlite') | undefined;
  if (!found) {
    throw new StoreError(`the run store needs node:sqlite (Node 22.13 or later) and this is Node ${process.version}: run stepcron through npx or npm scripts, which use the project's Node 24`);
  }
  return found;
}

function configure(db: DatabaseSync): void {
  // Before anything else: two stepcron processes opening a new store at once wait for each other, not fail.
  db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.prepare('PRAGMA journal_mode = WAL').get();
  // In WAL mode NORMAL loses nothing when a process is killed (only on power loss), and spares an fsync per commit.
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA foreign_keys = ON');
}

/** Schema changes, numbered by PRAGMA user_version, applied in one transaction. */
function migrate(db: DatabaseSync, file: string): void {
  const version = () => Number(db.prepare('PRAGMA user_version').get()?.user_version ?? 0);
  const found = version();
  if (found > MIGRATIONS.length) {
    throw new StoreError(`${displayPath(file)} was written by a newer stepcron (store schema ${found}; this one knows up to ${MIGRATIONS.length}): use that stepcron, or move the file aside (mv ${displayPath(file)} ${displayPath(file)}.newer) to start a new one`);
  }
  if (found === MIGRATIONS.length) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    const now = version();
    if (now === 0 && Number(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").get()?.n) > 0) {
      throw new NotAStore('it is an SQLite database of another program');
    }
    for (let v = now; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
    db.exec('COMMIT');
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

class NotAStore extends Error {}

/**
 * Opens (configure, migrate) again while another process holds the store: two processes creating a new store at once
 * race on its conversion to WAL and on the first migration, where SQLite answers BUSY at once instead of waiting out
 * busy_timeout. Each try waits a little longer, up to BUSY_TIMEOUT_MS in all; any other failure is thrown at once.
 */
function retryingBusy<T>(open: () => T): T {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
    try {
      return open();
    } catch (err) {
      const base = ((err as { errcode?: number }).errcode ?? 0) & 0xff;
      if ((base !== 5 && base !== 6) || Date.now() + wait > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait); // a synchronous sleep: opening is synchronous
    }
  }
}

/** Why the file is no store at all (garbage, another program's database), or undefined for other failures. */
function brokenReason(err: unknown): string | undefined {
  if (err instanceof NotAStore) return err.message;
  const { errcode, errstr } = err as { errcode?: number; errstr?: string };
  // SQLITE_CORRUPT, SQLITE_NOTADB (and their extended codes)
  const base = (errcode ?? 0) & 0xff;
  if (base === 11 || base === 26) return errstr ?? 'file is not a database';
  return undefined;
}

function storeError(err: unknown, file: string): Error {
  if (err instanceof StoreError) return err;
  const { errcode, errstr } = err as { errcode?: number; errstr?: string };
  if (errcode === undefined) return err as Error;
  const shown = displayPath(file);
  const base = errcode & 0xff;
  if (base === 11 || base === 26) return new StoreError(`${shown} is damaged (${errstr}): delete it (rm ${shown}) to start a new one`);
  if (base === 5 || base === 6) return new StoreError(`${shown} stayed locked by another stepcron process for ${BUSY_TIMEOUT_MS / 1000} s (${errstr}): try again when it has finished writing`);
  if (base === 8 || base === 14 || base === 23) return new StoreError(`cannot open ${shown} for writing (${errstr}): check the permissions of it and of its folder`);
  if (isDiskFull(err, dirname(file))) return new StoreError(diskFullMessage(file));
  return new StoreError(`${shown}: ${errstr ?? (err as Error).message}`);
}

/** Below this much free space, a write that fails with an I/O error failed for want of space (SQLite cannot tell). */
const LOW_SPACE_BYTES = 1024 * 1024;
/** Kept free per running run, for recording its outcome on a full disk. */
const RESERVE_BYTES = 64 * 1024;
const RESERVE_PREFIX = 'reserve-';

/**
 * SQLite's SQLITE_FULL, or an I/O error on a disk (nearly) full: growing the WAL index (-shm) on a full disk is
 * SQLITE_IOERR ("disk I/O error"), which said nothing of the cause.
 */
function isDiskFull(err: unknown, folder: string): boolean {
  const { errcode, code } = err as { errcode?: number; code?: string };
  if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  if (errcode === undefined) return false;
  const base = errcode & 0xff;
  if (base === 13) return true;
  if (base !== 10) return false;
  try {
    const fs = statfsSync(folder);
    return fs.bavail * fs.bsize < LOW_SPACE_BYTES;
  } catch {
    return false;
  }
}

/** "Disk full", where, and what to do, in one line. */
function diskFullMessage(file: string): string {
  const folder = dirname(file);
  let free = '';
  try {
    const fs = statfsSync(folder);
    free = ` (${Math.floor((fs.bavail * fs.bsize) / 1024)} KiB free)`;
  } catch {
    // Only the figure is missing.
  }
  return `disk full: cannot write the run store ${displayPath(file)}${free}: free space on the disk that holds ${resolve(folder)} (stepcron keeps the last ${KEEP_RUNS} runs of each job there; rm -r ${displayPath(folder)} drops them all)`;
}

/** Gives a run's reserve back (once). */
function releaseReserve(writer: Writer): void {
  if (writer.reserve === undefined) return;
  rmSync(writer.reserve, { force: true });
  writer.reserve = undefined;
}

/** Removes the reserves of stepcron processes that are gone (killed before they could). */
function removeStaleReserves(root: string): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(RESERVE_PREFIX)) continue;
    // reserve-<pid>-<n> (reserve-<pid> from a stepcron that kept one per process)
    const pid = Number(name.slice(RESERVE_PREFIX.length).split('-')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && processStartTime(pid) === undefined) rmSync(join(root, name), { force: true });
  }
}

/** A path as the user would type it: relative to the current folder when inside it. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}
