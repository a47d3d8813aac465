// Runs one measurement of bench/child.ts in a fresh `node` (this process's binary, with tsx's loader), so its peak RSS
// is its own: `node --import tsx bench/child.ts <measure> <n>`. Its stderr passes through; the result is the last
// `@@bench` line of its stdout.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..');

export interface Isolated<T> {
  result: T;
  /** Peak RSS of the child over its whole life (process.resourceUsage().maxRSS), in MB (10^6 bytes). */
  maxRssMb: number;
}

export function runIsolated<T>(measure: string, n: number, timeoutMs = 15 * 60_000): Isolated<T> {
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'child.ts'), measure, String(n)], {
    cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: timeoutMs, maxBuffer: 64 * 2 ** 20,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const line = child.stdout?.split('\n').reverse().find((l) => l.startsWith('@@bench '));
  if (child.status !== 0 || !line) {
    throw new Error(`${measure} ${n}: the child exited ${child.status ?? child.signal}${child.error ? ` (${child.error.message})` : ''}`);
  }
  return JSON.parse(line.slice('@@bench '.length)) as Isolated<T>;
}
