// `sls package` measured on copies of the project in temporary folders (so a run never touches the working tree's
// .serverless/ or .esbuild/, and a catalog can be swapped in): the project's own files (serverless.yml, package.json,
// tsconfig.json, handlers/, workflows/) with node_modules linked, the real osls CLI and plugins, offline.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

const PROJECT_FILES = ['serverless.yml', 'package.json', 'tsconfig.json', 'handlers', 'workflows', 'cli'];
export const MAIN_TEMPLATE = 'cloudformation-template-update-stack.json';
const NESTED = /^stepcron-Jobs\d+-[0-9a-f]{64}\.json$/;

/** The environment of every `sls` run: offline, quiet, fake credentials (package needs none; nothing may look for any). */
export function slsEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE', AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key', AWS_REGION: 'eu-west-1',
  };
}

/** A copy of the project in a new temporary folder; `catalog` (YAML) replaces workflows/jobs.yml. */
export function projectCopy(root: string, catalog?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-bench-project-'));
  for (const file of PROJECT_FILES) cpSync(join(root, file), join(dir, file), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  if (catalog !== undefined) writeFileSync(join(dir, 'workflows', 'jobs.yml'), catalog);
  return dir;
}

/**
 * A bare osls service with the same two functions as the project: the same provider, handlers, environment and
 * serverless-esbuild settings, but no state machines, no serverless-step-functions, no stacks plugin, no resources
 * (so no roles: each function gets osls's default one). The baseline of what packaging two Lambdas costs.
 */
export function bareService(root: string): string {
  const service = parse(readFileSync(join(root, 'serverless.yml'), 'utf8')) as {
    service: string; provider: Record<string, unknown>; functions: Record<string, Record<string, unknown>>;
    custom?: { esbuild?: unknown }; package?: unknown;
  };
  const functions = Object.fromEntries(Object.entries(service.functions).map(([name, fn]) => {
    const { role: _role, ...rest } = fn;
    const environment = rest.environment as Record<string, string> | undefined;
    // Stage params belong to the full service: a bare one has none.
    if (environment) rest.environment = Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v).replace(/\$\{param:[^}]*\}/g, '')]));
    return [name, rest];
  }));
  const bare = {
    service: service.service, frameworkVersion: '4', plugins: ['serverless-esbuild'], provider: service.provider, functions,
    custom: { esbuild: service.custom?.esbuild }, package: service.package,
  };
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-bench-bare-'));
  for (const file of ['package.json', 'tsconfig.json', 'handlers', 'workflows']) cpSync(join(root, file), join(dir, file), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'serverless.yml'), stringify(bare));
  return dir;
}

/** `sls package --stage <stage> --package <dir>/out` in `dir`: wall time in ms, or throws with osls's output. */
export function slsPackage(root: string, dir: string, stage: string): { ms: number; out: string } {
  const out = join(dir, 'out');
  mkdirSync(out, { recursive: true });
  const started = performance.now();
  const result = spawnSync(join(root, 'node_modules', '.bin', 'sls'), ['package', '--stage', stage, '--package', out], {
    cwd: dir, env: slsEnv(), encoding: 'utf8', timeout: 20 * 60_000, maxBuffer: 64 * 2 ** 20,
  });
  const ms = performance.now() - started;
  if (result.status !== 0) {
    throw new Error(`sls package --stage ${stage} in ${dir} exited ${result.status ?? result.signal}: ${`${result.stdout}\n${result.stderr}`.trim().slice(-2000)}`);
  }
  return { ms, out };
}

export interface StackFigures { name: string; resources: number; bytes: number }

/** The main template and every nested `stepcron-Jobs*.json` template sls package wrote: resources and bytes. */
export function templateFigures(out: string): StackFigures[] {
  const figures = (name: string, file: string): StackFigures => ({
    name,
    resources: Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { Resources?: object }).Resources ?? {}).length,
    bytes: statSync(file).size,
  });
  if (!existsSync(join(out, MAIN_TEMPLATE))) throw new Error(`no ${MAIN_TEMPLATE} in ${out}`);
  return [
    figures('main', join(out, MAIN_TEMPLATE)),
    ...readdirSync(out).filter((f) => NESTED.test(f)).sort().map((f) => figures(f.split('-')[1]!, join(out, f))),
  ];
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
