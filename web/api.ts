// The console's calls to its server (cli/ui/api.ts): same origin, the token in its HttpOnly cookie, changes as POSTs
// with a JSON body. Types mirror the server's answers (kept by hand: the server's modules are Node's).

export type RunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'SKIPPED' | 'PENDING_REDRIVE';

export interface Info {
  stage: string;
  where: string;
  mode: 'local' | 'aws';
  catalog: string;
  live: boolean;
  strip: number;
  lateMs: number;
}

export interface Pause { by: string; at: string; note: string }

export interface StripRun {
  e: string;
  s: RunStatus;
  t: string;
  d?: number;
  m?: Array<'late' | 'fast' | 'slow'>;
  x?: number | null;
  r?: string;
}

export interface JobRow {
  job: string;
  description: string;
  state: 'enabled' | 'paused' | 'disabled' | 'not deployed';
  pause?: Pause;
  off?: string;
  schedule: string;
  words: string;
  timezone: string;
  catalog?: { schedule: string; timezone: string };
  next: string[];
  successRate: { succeeded: number; finished: number; percent: number | null };
  costPerRun?: number;
  monthlyEstimate?: number;
  runs: StripRun[];
}

export interface RunRow {
  job: string;
  execution: string;
  status: RunStatus;
  startedAt: string;
  stoppedAt?: string;
  durationMs?: number;
  exitCode?: number | null;
  error?: string;
  cause?: string;
  reason?: string;
  link?: string;
  cost?: number;
}

export interface Description {
  job: string;
  description: string;
  stage: string;
  where: string;
  state: JobRow['state'];
  off?: string;
  pause?: Pause;
  schedule: { expression: string; timezone: string; deployed: { expression: string; timezone: string }; notDeployedYet?: boolean; note?: string };
  next: string[];
  settings: Record<string, unknown>;
  runs: RunRow[];
  lastFailure?: RunRow & { tail: Array<{ label: string; at?: string; text: string }> };
  costPerRun?: number;
  monthlyEstimate?: number;
}

export interface Calendar {
  from: string;
  hours: number;
  buckets: Array<{ at: string; count: number; jobs: Array<{ job: string; at: string }> }>;
  cut: Array<{ job: string; fires: number }>;
  dst: Array<{ zone: string; at: string; from: string; to: string }>;
}

export interface RunPage {
  job: string;
  execution: string;
  run?: RunRow;
  events: unknown[];
  output: Array<{ label: string; at?: string; text: string }>;
}

/** A refusal from the server: its one line, and whether AWS denied the permission (the page is then read-only for it). */
export class ApiError extends Error {
  constructor(message: string, readonly status: number, readonly denied: boolean) {
    super(message);
  }
}

async function answer<T>(response: Response): Promise<T> {
  const body = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
  if (!response.ok) throw new ApiError(body.error ?? `${response.status}`, response.status, Boolean(body.denied));
  return body as T;
}

export async function get<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } }));
}

export async function post<T>(path: string, body: unknown): Promise<T> {
  return answer<T>(await fetch(path, {
    method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body),
  }));
}

export const jobPath = (job: string, action?: string) => `/api/jobs/${encodeURIComponent(job)}${action ? `/${action}` : ''}`;
