// The compiled CLI: how it is built and how to tell it is fresh, for bin/stepcron.cjs and scripts/build-cli.mjs.
//
// esbuild bundles cli/main.ts (and what it imports) into one CommonJS file, dist/stepcron.cjs, whose first line is a
// stamp: the size, mtime and ctime of every source file it was built from, of tsconfig.json, package.json and this
// file, of the package.json of each package bundled in it (npm rewrites it whenever it installs the package; a hand
// edit elsewhere inside node_modules goes unnoticed: `npm run build`), and the mtime of each source folder (a file
// added next to a source can change what an import means). Checking freshness is one stat call per entry (about 40),
// no reading or hashing. ctime is kept because only the kernel sets it: a file replaced by one of the same size with
// its old mtime (git, npm's fixed tarball times) still differs.
'use strict';
const { closeSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join, relative } = require('node:path');

const BUNDLE = 'dist/stepcron.cjs';
const CACHE_DIR = 'dist/cache';
const STAMP = '//stepcron-build ';
const FORMAT = 1;
/** Packages loaded by `--help` and `validate`: bundled, so they load as part of one file. The others stay external. */
const BUNDLED_PACKAGES = ['commander', 'yaml', 'zod'];
/** Files that shape the bundle without being imported by it. */
const BUILD_FILES = ['package.json', 'tsconfig.json', 'bin/cli-build.cjs'];

/** [size, mtimeMs, ctimeMs] of a file or folder, or null if there is none. */
function fileState(path) {
  const s = statSync(path, { throwIfNoEntry: false });
  return s ? [s.size, s.mtimeMs, s.ctimeMs] : null;
}

/** The stamp entries of these files ([path, size, mtimeMs, ctimeMs]) and folders ([path, mtimeMs]) as they are now. */
function snapshot(root, files, dirs) {
  return {
    files: files.map((p) => [p, ...(fileState(join(root, p)) ?? [-1, -1, -1])]),
    dirs: dirs.map((d) => [d, fileState(join(root, d))?.[1] ?? -1]),
  };
}

/** Why a build with this stamp is stale (the first difference found), or undefined if it is fresh. */
function staleReason(root, stamp) {
  if (!stamp || stamp.format !== FORMAT) return `${BUNDLE} is missing or was not built by bin/cli-build.cjs`;
  for (const [path, size, mtime, ctime] of stamp.files) {
    const now = fileState(join(root, path));
    if (!now) return `${path} is gone`;
    if (now[0] !== size || now[1] !== mtime || now[2] !== ctime) return `${path} changed`;
  }
  for (const [path, mtime] of stamp.dirs) {
    const now = fileState(join(root, path));
    if (!now || now[1] !== mtime) return `files were added to or removed from ${path}/`;
  }
  return undefined;
}

/** The stamp of a bundle's text, or undefined if it has none. */
function readStamp(code) {
  if (!code.startsWith(STAMP)) return undefined;
  try {
    return JSON.parse(code.slice(STAMP.length, code.indexOf('\n')));
  } catch {
    return undefined;
  }
}

/** The build as it is on disk: its text, its stamp and the file's identity; undefined if there is none. */
function readBuild(root) {
  let fd;
  try {
    fd = openSync(join(root, BUNDLE), 'r');
  } catch {
    return undefined;
  }
  try {
    // One open file for both, so the identity is that of the text read even if a build replaces the file meanwhile.
    const s = fstatSync(fd);
    // The bundle is ASCII (see build): latin1 reads it faster than utf8, to the same string.
    const code = readFileSync(fd, 'latin1');
    return { code, stamp: readStamp(code), id: `${s.ino}-${s.size}-${s.mtimeMs}-${s.ctimeMs}` };
  } finally {
    closeSync(fd);
  }
}

/** True if esbuild can be loaded (a devDependency: an install without them has none). */
function canBuild(root) {
  try {
    require.resolve('esbuild', { paths: [root] });
    return true;
  } catch {
    return false;
  }
}

/** For a file inside node_modules, its package's package.json. */
function packageOf(path) {
  const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(path);
  return match ? `${match[1]}/package.json` : undefined;
}

/** `text` with every non-ASCII character written as a \u escape (the same in JavaScript code, comments and JSON). */
function ascii(text) {
  return text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Bundles cli/main.ts into dist/stepcron.cjs with its stamp, replacing the old bundle atomically (a CLI starting
 * meanwhile reads the old file or the new one, never half of one). Throws if esbuild fails; it has printed why.
 */
function build(root) {
  const esbuild = require(require.resolve('esbuild', { paths: [root] }));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const external = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
    .filter((name) => !BUNDLED_PACKAGES.includes(name))
    .flatMap((name) => [name, `${name}/*`]);
  for (let attempt = 1; ; attempt++) {
    const startedAt = Date.now();
    const result = esbuild.buildSync({
      absWorkingDir: root,
      entryPoints: ['cli/main.ts'],
      outfile: BUNDLE,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external,
      write: false,
      metafile: true,
      logLevel: 'error',
    });
    const inputs = Object.keys(result.metafile.inputs);
    const sources = inputs.filter((p) => !packageOf(p));
    const packages = inputs.map(packageOf).filter(Boolean);
    const state = snapshot(
      root,
      [...new Set([...BUILD_FILES, ...sources, ...packages])],
      [...new Set(sources.map((p) => dirname(p)))].filter((d) => d !== '.'),
    );
    // A file changed while esbuild was reading may have been read as it was before, so its state now cannot vouch for
    // the bundle: build again. File times come from a clock that can lag a tick, or are whole seconds on some systems.
    const checkedAt = Date.now();
    const duringBuild = (t) => t >= startedAt - (t % 1000 === 0 ? 1000 : 20) && t <= checkedAt + 20;
    const unsettled = [...state.files.filter((f) => duringBuild(f[3])), ...state.dirs.filter((d) => duringBuild(d[1]))];
    if (unsettled.length > 0 && attempt < 5) continue;
    for (const entry of unsettled) entry[entry.length - 1] = -1; // still changing: the next start builds again
    // ASCII only (esbuild escapes strings; this catches comments), so that a start can read it as latin1.
    const code = ascii(result.outputFiles[0].text);
    const hash = require('node:crypto').createHash('sha256').update(code).digest('hex').slice(0, 16);
    const out = join(root, BUNDLE);
    mkdirSync(dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, `${STAMP}${ascii(JSON.stringify({ format: FORMAT, hash, ...state }))}\n${code}`, 'latin1');
    renameSync(tmp, out);
    rmSync(join(root, CACHE_DIR), { recursive: true, force: true });
    return { file: relative(root, out), bytes: code.length, inputs: state.files.length, hash };
  }
}

/**
 * Runs a build's text as the CommonJS module it is and returns its exports. V8's code cache for it is kept in
 * dist/cache/, one per command, written after the first run of that command so that it holds every function the
 * command compiled (Node's compile cache, `module.enableCompileCache`, holds only what was compiled before running).
 */
function loadBundle(root, bundle, command) {
  const vm = require('node:vm');
  const { createRequire } = require('node:module');
  const file = join(root, BUNDLE);
  // V8 checks a cache against the length of the source only: the name carries the bundle file's identity.
  const cacheFile = join(root, CACHE_DIR, `${bundle.stamp.hash}-${bundle.id}-${process.versions.v8}-${process.arch}-${command}.bin`);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {}
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${bundle.code}\n})`, {
    filename: file,
    ...(cachedData && { cachedData }),
  });
  if (!cachedData || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        mkdirSync(dirname(cacheFile), { recursive: true });
        writeFileSync(`${cacheFile}.${process.pid}.tmp`, script.createCachedData());
        renameSync(`${cacheFile}.${process.pid}.tmp`, cacheFile);
      } catch {
        // A read-only install runs without it.
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

module.exports = { BUNDLE, build, canBuild, loadBundle, readBuild, readStamp, snapshot, staleReason };
