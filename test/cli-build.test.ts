// The compiled CLI (dist/stepcron.bundle): bin/stepcron.cjs runs the build, and rebuilds it first whenever a file it was
// built from changed or it is missing. Each test works on its own copy of the project (sources, bin, build script,
// with the real node_modules linked), so the real tree is never modified.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import {
  cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BUNDLE, readBuild, snapshot, staleReason } from '../bin/cli-build.cjs';

const root = join(__dirname, '..');
const COPIED = ['bin', 'scripts/build-cli.mjs', 'cli', 'workflows', 'handlers', 'web', 'package.json', 'tsconfig.json'];
const DESCRIPTION = 'Cron for ECS: run, inspect and schedule the jobs of a stepcron catalog locally';
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  dirs.push(dir);
  return dir;
}

/** A copy of the project without dist/. node_modules: the real one linked, or a folder linking each package but esbuild. */
function project(options: { withoutEsbuild?: boolean } = {}): string {
  const dir = tempDir('stepcron-build-');
  for (const path of COPIED) cpSync(join(root, path), join(dir, path), { recursive: true });
  if (options.withoutEsbuild) {
    mkdirSync(join(dir, 'node_modules'));
    for (const name of readdirSync(join(root, 'node_modules'))) {
      symlinkSync(join(root, 'node_modules', name), join(dir, 'node_modules', name));
    }
  } else {
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  }
  return dir;
}

/** `node bin/stepcron.cjs ...` in the project `dir`, as a user runs it. */
function stepcron(dir: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(process.execPath, [join(dir, 'bin', 'stepcron.cjs'), ...args], { cwd: dir, env, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function edit(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  expect(text).toContain(from);
  writeFileSync(file, text.replace(from, to));
}

/** The build's stamp and file identity. */
function built(dir: string) {
  const build = readBuild(dir);
  build?.close();
  if (!build?.stamp) throw new Error(`no build in ${dir}`);
  return { id: build.id, stamp: build.stamp };
}

describe('bin/stepcron.cjs runs the compiled CLI', () => {
  it('builds a missing dist/stepcron.bundle on the first start, and what runs is that file', () => {
    // Prepare
    const dir = project();
    // Act
    const first = stepcron(dir, ['--help']);
    // Assess: built, fresh, and it answered.
    expect(first.code).toBe(0);
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain(DESCRIPTION);
    const build = built(dir);
    expect(staleReason(dir, build.stamp)).toBeUndefined();
    expect(build.stamp.files.map(([path]) => path)).toEqual(expect.arrayContaining([
      'cli/main.ts', 'workflows/catalog.ts', 'package.json', 'tsconfig.json', expect.stringMatching(/node_modules\/zod\/package\.json$/),
      // The console (stepcron ui) is built with the CLI: its sources and preact are stamped too.
      'web/main.tsx', 'web/index.html', 'web/app.css', expect.stringMatching(/node_modules\/preact\/package\.json$/),
    ]));
    expect(readdirSync(join(dir, 'dist', 'ui')).sort()).toEqual(['app.css', 'app.js', 'index.html']);
    // Act: a text changed in the built file alone (its sources unchanged, the same length) shows in the next start.
    edit(join(dir, BUNDLE), DESCRIPTION, DESCRIPTION.toUpperCase());
    const second = stepcron(dir, ['--help']);
    const validate = stepcron(dir, ['validate']);
    // Assess
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(DESCRIPTION.toUpperCase());
    expect(validate).toMatchObject({ code: 0, stderr: '' });
    expect(validate.stdout).toMatch(/^workflows\/jobs\.yml: \d+ jobs valid for stage dev; /);
  });

  it('--help and validate load no file but the bin and the build: no engine, backend or AWS SDK', () => {
    // Prepare
    const dir = project();
    expect(stepcron(dir, ['--help']).code).toBe(0);
    const env = { ...process.env, NODE_DEBUG: 'module' }; // Node logs each file its module loader loads
    // Act
    const help = stepcron(dir, ['--help'], env);
    const validate = stepcron(dir, ['validate'], env);
    // Assess
    for (const result of [help, validate]) {
      expect(result.code).toBe(0);
      const loaded = [...result.stderr.matchAll(/^MODULE \d+: load "([^"]+)"/gm)].map((m) => m[1]);
      expect(loaded).toEqual([join(dir, 'bin', 'stepcron.cjs'), join(dir, 'bin', 'cli-build.cjs')]);
    }
    expect(help.stdout).toContain(DESCRIPTION);
    expect(validate.stdout).toMatch(/^workflows\/jobs\.yml: \d+ jobs valid for stage dev; /);
  });

  it('rebuilds before running when a source changed, so the change is what runs', () => {
    // Prepare
    const dir = project();
    expect(stepcron(dir, ['--help']).code).toBe(0);
    const before = built(dir);
    // Act
    edit(join(dir, 'cli', 'main.ts'), `'${DESCRIPTION}'`, "'Changed since the last build'");
    const reason = staleReason(dir, before.stamp);
    const result = stepcron(dir, ['--help']);
    // Assess
    expect(reason).toBe('cli/main.ts changed');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Changed since the last build');
    expect(result.stdout).not.toContain(DESCRIPTION);
    const after = built(dir);
    expect(after.stamp.hash).not.toBe(before.stamp.hash);
    expect(staleReason(dir, after.stamp)).toBeUndefined();
  });

  it('rebuilds when a source was only touched, or a file was added next to the sources', () => {
    // Prepare
    const dir = project();
    expect(stepcron(dir, ['validate']).code).toBe(0);
    const before = built(dir);
    // Act: touched (same content, new times).
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, 'workflows', 'schedule.ts'), later, later);
    const touched = staleReason(dir, before.stamp);
    const result = stepcron(dir, ['validate']);
    // Assess: rebuilt (a new file, the same code) and fresh again.
    expect(touched).toBe('workflows/schedule.ts changed');
    expect(result.code).toBe(0);
    const after = built(dir);
    expect(after.id).not.toBe(before.id);
    expect(after.stamp.hash).toBe(before.stamp.hash);
    expect(staleReason(dir, after.stamp)).toBeUndefined();
    // Act: a new file in a source folder could change what an import resolves to.
    writeFileSync(join(dir, 'cli', 'backends.ts'), 'export {};\n');
    // Assess
    expect(staleReason(dir, after.stamp)).toBe('files were added to or removed from cli/');
  });

  it('a source that does not compile: the start exits 1 with esbuild\'s message and runs nothing', () => {
    // Prepare
    const dir = project();
    expect(stepcron(dir, ['validate']).code).toBe(0);
    const errors = join(dir, 'cli', 'errors.ts');
    const good = readFileSync(errors, 'utf8');
    // Act
    writeFileSync(errors, `${good}\nexport const broken = ;\n`);
    const broken = stepcron(dir, ['validate']);
    writeFileSync(errors, good);
    const repaired = stepcron(dir, ['validate']);
    // Assess
    expect(broken.code).toBe(1);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toContain('cli/errors.ts');
    expect(broken.stderr).toMatch(/stepcron: cannot build the CLI from its sources \(see above\)\n$/);
    expect(repaired.code).toBe(0);
    expect(repaired.stderr).toBe('');
  });

  it('starts at the same time after a change all run the new build', async () => {
    // Prepare
    const dir = project();
    expect(stepcron(dir, ['--help']).code).toBe(0);
    edit(join(dir, 'cli', 'main.ts'), `'${DESCRIPTION}'`, "'Rebuilt once or more'");
    // Act
    const run = promisify(execFile);
    const results = await Promise.all([1, 2, 3].map(() => run(process.execPath, [join(dir, 'bin', 'stepcron.cjs'), '--help'], { cwd: dir })));
    // Assess
    for (const result of results) expect(result.stdout).toContain('Rebuilt once or more');
    expect(staleReason(dir, built(dir).stamp)).toBeUndefined();
  });

  it('without esbuild (no devDependencies): a fresh build runs; a stale one is refused in one line', () => {
    // Prepare: built while esbuild is there, then esbuild removed.
    const dir = project({ withoutEsbuild: true });
    expect(stepcron(dir, ['validate']).code).toBe(0);
    unlinkSync(join(dir, 'node_modules', 'esbuild'));
    // Act
    const fresh = stepcron(dir, ['validate']);
    edit(join(dir, 'cli', 'main.ts'), `'${DESCRIPTION}'`, "'Not built'");
    const stale = stepcron(dir, ['--help']);
    // Assess
    expect(fresh).toMatchObject({ code: 0, stderr: '' });
    expect(stale.code).toBe(1);
    expect(stale.stdout).toBe('');
    expect(stale.stderr).toBe(`stepcron: ${BUNDLE} is missing or older than its sources (cli/main.ts changed), `
      + 'and esbuild is not installed to rebuild it: run npm ci\n');
  });
});

describe('staleReason', () => {
  it('is undefined while every file and folder is as stamped, and names the first that is not', () => {
    // Prepare
    const dir = tempDir('stepcron-stamp-');
    mkdirSync(join(dir, 'src'));
    mkdirSync(join(dir, 'node_modules', 'pkg'), { recursive: true });
    writeFileSync(join(dir, 'src', 'a.ts'), 'export const a = 1;\n');
    writeFileSync(join(dir, 'node_modules', 'pkg', 'package.json'), '{"version":"1.0.0"}');
    const stamp = { format: 2, hash: 'x', segments: {}, ...snapshot(dir, ['src/a.ts', 'node_modules/pkg/package.json'], ['src']) };
    // Act / Assess: as stamped.
    expect(staleReason(dir, stamp)).toBeUndefined();
    // A package reinstalled at another version of the same size, with npm's fixed file times: the ctime differs.
    const pkg = join(dir, 'node_modules', 'pkg', 'package.json');
    const { atime, mtime } = statSync(pkg);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); // past the file clock's tick
    writeFileSync(pkg, '{"version":"1.0.1"}');
    utimesSync(pkg, atime, mtime);
    expect(staleReason(dir, stamp)).toBe('node_modules/pkg/package.json changed');
    // Deleted, or no stamp at all.
    rmSync(join(dir, 'src', 'a.ts'));
    expect(staleReason(dir, stamp)).toBe('src/a.ts is gone');
    expect(staleReason(dir, undefined)).toBe(`${BUNDLE} is missing or was not built by bin/cli-build.cjs`);
    expect(staleReason(dir, { ...stamp, format: 0 })).toMatch(/not built by bin\/cli-build\.cjs/);
  });
});

// The machine's own Node when it is older than node:sqlite (22.13): bin/stepcron.cjs run directly, as its shebang would.
const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => {
  const version = spawnSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout?.trim();
  if (!version) return false;
  const [major, minor] = version.split('.').map(Number) as [number, number];
  return major < 22 || (major === 22 && minor < 13);
});
if (!systemNode) console.warn('bin on an old Node: skipped, no Node older than 22.13 on this machine');
const describeOnOldNode = systemNode ? describe : describe.skip;

describeOnOldNode('bin/stepcron.cjs on a Node too old for the run store', () => {
  const workspace = () => {
    const dir = tempDir('stepcron-oldnode-');
    writeFileSync(join(dir, 'jobs.yml'), "defaults:\n  image: b\njobs:\n  sleepy:\n    description: d\n    schedule: rate(1 hour)\n    command: [sh, -c, 'echo started; sleep 30']\n");
    return dir;
  };

  it('runs the CLI on the project\'s Node 24: a run and its history work, exit codes pass through', () => {
    const dir = workspace();
    writeFileSync(join(dir, 'jobs.yml'), "defaults:\n  image: b\njobs:\n  fails:\n    description: d\n    schedule: rate(1 hour)\n    command: [sh, -c, 'exit 3']\n    retries: 0\n");
    const run = spawnSync(systemNode!, [join(root, 'bin', 'stepcron.cjs'), 'run', 'fails', '--catalog', 'jobs.yml'], { cwd: dir, encoding: 'utf8' });
    const history = spawnSync(systemNode!, [join(root, 'bin', 'stepcron.cjs'), 'history', '--catalog', 'jobs.yml'], { cwd: dir, encoding: 'utf8' });
    expect({ run: run.status, history: history.status }).toEqual({ run: 1, history: 0 });
    expect(history.stdout).toMatch(/FAILED\s+fails/);
    expect(`${run.stderr}${history.stderr}`).not.toMatch(/node:sqlite/);
  });

  it('passes SIGTERM on: the job is stopped and the run recorded ABORTED', async () => {
    const dir = workspace();
    const child: ChildProcess = spawn(systemNode!, [join(root, 'bin', 'stepcron.cjs'), 'run', 'sleepy', '--catalog', 'jobs.yml'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d; });
    child.stderr!.on('data', (d: Buffer) => { out += d; });
    for (let i = 0; i < 100 && !out.includes('started'); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    await new Promise((r) => child.on('close', r));
    const history = spawnSync(systemNode!, [join(root, 'bin', 'stepcron.cjs'), 'history', '--catalog', 'jobs.yml'], { cwd: dir, encoding: 'utf8' });
    expect(history.stdout).toMatch(/ABORTED\s+sleepy/);
  }, 20_000);
});
