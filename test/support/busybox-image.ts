// Builds a ~2 MB image from Debian's busybox-static for container tests: no registry is reachable on these machines.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, copyFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineGlobalArgs, type Engine } from '../../cli/backends/container';

/** Returns the tag; builds only when the engine's store does not have it yet. */
export async function buildBusyboxImage(engine: Engine, tag = 'localhost/stepcron-busybox:latest'): Promise<string> {
  const global = engineGlobalArgs(engine);
  const exists = engine === 'podman' ? ['image', 'exists', tag] : ['image', 'inspect', tag];
  if ((await run(engine, [...global, ...exists])).code === 0) return tag;

  const work = mkdtempSync(join(tmpdir(), 'stepcron-busybox-'));
  try {
    const rootfs = join(work, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    // Jobs may write temp files; sticky and world-writable as on any Linux.
    mkdirSync(join(rootfs, 'tmp'));
    chmodSync(join(rootfs, 'tmp'), 0o1777);
    const busybox = join(rootfs, 'bin', 'busybox');
    copyFileSync(await staticBusybox(work), busybox);
    chmodSync(busybox, 0o755);

    const list = await run(busybox, ['--list']);
    if (list.code !== 0) throw new Error(`busybox --list failed: ${list.stderr.trim()}`);
    for (const applet of list.stdout.split('\n').map((l) => l.trim())) {
      if (applet && applet !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', applet));
    }

    await importRootfs(engine, [...global, 'import', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/bin', '-', tag], rootfs);
    return tag;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The host's /bin/busybox when busybox-static is installed (the dynamic `busybox` package's would not run alone). */
async function staticBusybox(work: string): Promise<string> {
  const status = await run('dpkg-query', ['-W', '-f=${Status}', 'busybox-static']);
  if (status.code === 0 && status.stdout.trim() === 'install ok installed') return '/bin/busybox';

  const download = await run('apt-get', ['download', 'busybox-static'], work);
  const deb = readdirSync(work).find((f) => f.startsWith('busybox-static_') && f.endsWith('.deb'));
  if (download.code !== 0 || !deb) {
    throw new Error(
      `cannot get busybox-static for the test image: 'apt-get download busybox-static' failed ` +
      `(${download.stderr.trim().split('\n').at(-1) ?? 'no message'}). Run 'apt-get update' first, ` +
      `or install it with scripts/install-podman.sh`,
    );
  }
  const extracted = join(work, 'deb');
  const unpack = await run('dpkg-deb', ['-x', join(work, deb), extracted]);
  if (unpack.code !== 0) throw new Error(`dpkg-deb -x ${deb} failed: ${unpack.stderr.trim()}`);
  return join(extracted, 'bin', 'busybox');
}

/** `tar -C rootfs -c . | <engine> import ...`, without a shell. */
function importRootfs(engine: Engine, importArgs: string[], rootfs: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // Root-owned files whoever builds it, so the image looks like any other.
    const tar = spawn('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-c', '.'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const importer = spawn(engine, importArgs, { stdio: ['pipe', 'ignore', 'pipe'] });
    tar.stdout.pipe(importer.stdin);
    let errors = '';
    tar.stderr.on('data', (d: Buffer) => { errors += d.toString(); });
    importer.stderr.on('data', (d: Buffer) => { errors += d.toString(); });
    tar.on('error', reject);
    importer.on('error', reject);
    importer.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${engine} import failed (exit ${code}): ${errors.trim()}`));
    });
  });
}

function run(file: string, args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { ...(cwd !== undefined ? { cwd } : {}), timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr: stderr || (err?.message ?? '') });
    });
  });
}
