// The compiled CLI: how it is built and how to tell it is fresh, for bin/stepcron.cjs and scripts/build-cli.mjs.
//
// esbuild bundles the CLI into one file, dist/stepcron.bundle: a stamp line, then one CommonJS module wrapped as a
// function: cli/main.ts, all it imports, and the packages every start may need (commander, yaml, zod), tree-shaken:
// zod's locales and the parts of it the CLI does not call are left out. A module reached only through `await import()`
// (the catalog's, the engine's) runs only when a command imports it, and V8's code cache (per command, below) holds only
// what that command compiled, so `--help` pays for neither. Other packages (the AWS SDK, the local engine) load from
// node_modules when used. One file, so that a build replaces it atomically: a start reads the old one or the new one,
// never a mix.
//
// The stamp holds the size, mtime and ctime of every source file the build was made from, of tsconfig.json,
// package.json and this file, of the package.json of each package bundled (npm rewrites it whenever it installs the
// package; a hand edit elsewhere inside node_modules goes unnoticed: `npm run build`), and the mtime of each source
// folder (a file added next to a source can change what an import means). Checking freshness is one stat call per
// entry (about 60), no reading or hashing. ctime is kept because only the kernel sets it: a file replaced by one of the
// same size with its old mtime (git, npm's fixed tarball times) still differs.
'use strict';
const { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join, relative } = require('node:path');

const BUNDLE = 'dist/stepcron.bundle';
const CACHE_DIR = 'dist/cache';
const STAMP = '//stepcron-build ';
const FORMAT = 2;
/** Packages bundled into the CLI (any subpath too: 'zod/mini' shares zod's core). Other packages stay external. */
const BUNDLED_PACKAGES = ['commander', 'yaml', 'zod'];
/**
 * Built-in modules that take 1-3 ms each to load and that most starts never call: loaded on first use. commander
 * requires child_process as it loads (for executable subcommands, which stepcron has none of); crypto and zlib serve
 * a few commands (validate hashes its definitions' intrinsics; the run store compresses output).
 */
const LAZY_BUILTINS = ['child_process', 'crypto', 'zlib'];
/** Files that shape the bundle without being imported by it. */
const BUILD_FILES = ['package.json', 'tsconfig.json', 'bin/cli-build.cjs'];
const WRAPPER = '(function (exports, require, module, __filename, __dirname) {';

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

/**
 * The build on disk, read as far as its stamp: `{ stamp, id, segment(name) }`, undefined if there is none. `segment`
 * reads a module's text when asked, from the same open file, so it belongs to this stamp even if a build replaces the
 * file meanwhile; `id` is that file's identity. The file stays open until `close()` (or the process ends).
 */
function readBuild(root) {
  let fd;
  try {
    fd = openSync(join(root, BUNDLE), 'r');
  } catch {
    return undefined;
  }
  const s = fstatSync(fd);
  const read = (position, length) => {
    const buffer = Buffer.allocUnsafe(Math.max(0, Math.min(length, s.size - position)));
    const got = readSync(fd, buffer, 0, buffer.length, position);
    // ASCII only (see build): latin1 decodes it faster than utf8, to the same string.
    return buffer.toString('latin1', 0, got);
  };
  let head = read(0, 16384);
  while (!head.includes('\n') && head.length < s.size) head = read(0, head.length * 4);
  const end = head.indexOf('\n');
  let stamp;
  if (head.startsWith(STAMP) && end > 0) {
    try {
      stamp = JSON.parse(head.slice(STAMP.length, end));
    } catch {}
  }
  return {
    stamp,
    id: `${s.ino}-${s.size}-${s.mtimeMs}-${s.ctimeMs}`,
    segment: (name) => {
      const [offset, length, line] = stamp.segments[name];
      return { code: read(end + 1 + offset, length), line };
    },
    close: () => closeSync(fd),
  };
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
 * Bundles the CLI into dist/stepcron.bundle with its stamp, replacing the old file atomically. Throws if esbuild fails
 * (it has printed why).
 */
function build(root) {
  const esbuild = require(require.resolve('esbuild', { paths: [root] }));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const external = (bundled) => Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
    .filter((name) => !bundled.includes(name))
    .flatMap((name) => [name, `${name}/*`]);
  const options = { absWorkingDir: root, bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, metafile: true, logLevel: 'error' };
  for (let attempt = 1; ; attempt++) {
    const startedAt = Date.now();
    const main = esbuild.buildSync({ ...options, entryPoints: ['cli/main.ts'], outfile: 'dist/main.cjs', external: external(BUNDLED_PACKAGES) });
    const ui = buildUi(esbuild, root);
    const inputs = [...Object.keys(main.metafile.inputs), ...ui.inputs];
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
    // Each module wrapped as a CommonJS module function, in ASCII (esbuild escapes strings; this catches comments).
    const modules = { main: main.outputFiles[0].text };
    let body = '';
    let line = 1; // the stamp's
    const segments = {};
    for (const [name, code] of Object.entries(modules)) {
      const text = `${WRAPPER}${ascii(code)}\n})\n`;
      segments[name] = [body.length, text.length, line];
      body += text;
      line += text.split('\n').length - 1;
    }
    // The console's files first: a bundle that is fresh always has the console built from the same sources.
    writeUi(root, ui.files);
    const hash = require('node:crypto').createHash('sha256').update(body).digest('hex').slice(0, 16);
    const stamp = { format: FORMAT, hash, segments, ...state };
    const out = join(root, BUNDLE);
    mkdirSync(dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, `${STAMP}${ascii(JSON.stringify(stamp))}\n${body}`, 'latin1');
    renameSync(tmp, out);
    rmSync(join(root, CACHE_DIR), { recursive: true, force: true });
    return { file: relative(root, out), bytes: body.length, inputs: inputs.length, stamped: state.files.length, hash };
  }
}

/** Where `stepcron ui` serves the console from: web/ built for the browser (preact, no CDN, no inline script). */
const UI_DIR = 'dist/ui';
/** The console's files beside its script: copied as they are (the page and its stylesheet). */
const UI_STATIC = ['web/index.html', 'web/app.css'];

/** web/main.tsx bundled and minified for browsers, with the page and its stylesheet: { files: {name: text}, inputs }. */
function buildUi(esbuild, root) {
  const app = esbuild.buildSync({
    absWorkingDir: root, bundle: true, platform: 'browser', format: 'iife', target: 'es2020', minify: true, write: false, metafile: true,
    logLevel: 'error', entryPoints: ['web/main.tsx'], outfile: `${UI_DIR}/app.js`, jsx: 'automatic', jsxImportSource: 'preact', legalComments: 'none',
  });
  const files = { 'app.js': app.outputFiles[0].text };
  for (const file of UI_STATIC) files[file.slice('web/'.length)] = readFileSync(join(root, file), 'utf8');
  return { files, inputs: [...Object.keys(app.metafile.inputs), ...UI_STATIC] };
}

/** Writes the console's files, each replaced atomically. */
function writeUi(root, files) {
  const dir = join(root, UI_DIR);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, join(dir, name));
  }
}

/**
 * `require(id)` of a built-in module, loaded when a property of it is first read (or its keys listed): a module that
 * only holds it in a variable (`const childProcess = require('node:child_process')`) costs nothing until it calls it.
 */
function lazyBuiltin(nodeRequire, id) {
  let loaded;
  const real = () => {
    loaded ??= nodeRequire(id);
    return loaded;
  };
  return new Proxy({}, {
    get: (_, key) => real()[key],
    has: (_, key) => key in real(),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
      // A proxy may not report a property as non-configurable unless its target has it so.
      return descriptor && { ...descriptor, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
  });
}

/**
 * Runs the build's module and returns its exports. V8's code cache of it is kept in dist/cache/, one per command,
 * written after the first run of that command so that it holds every function the command compiled (Node's
 * `module.enableCompileCache` keeps only what was compiled before the module ran).
 */
function loadBuild(root, build, command) {
  const vm = require('node:vm');
  const file = join(root, BUNDLE);
  // V8 checks a cache against the length of the source only: the name carries the bundle file's identity.
  const cacheFile = join(root, CACHE_DIR, `${build.stamp.hash}-${build.id}-${process.versions.v8}-${process.arch}-main-${command}.bin`);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {}
  const { code, line } = build.segment('main');
  const script = new vm.Script(code, { filename: file, lineOffset: line, ...(cachedData && { cachedData }) });
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
  const { createRequire, enableCompileCache, isBuiltin } = require('node:module');
  const nodeRequire = createRequire(file);
  const lazy = new Map();
  let external = false;
  const mainRequire = (id) => {
    const builtin = id.startsWith('node:') ? id.slice(5) : id;
    if (LAZY_BUILTINS.includes(builtin)) {
      if (!lazy.has(builtin)) lazy.set(builtin, lazyBuiltin(nodeRequire, `node:${builtin}`));
      return lazy.get(builtin);
    }
    if (!external && !isBuiltin(id)) {
      // A package from node_modules (the AWS SDK, the local engine: hundreds of files): Node >= 22.1 caches their
      // compiled code (about 0.1 s less for `run`). Enabled here, so that the commands that load none pay nothing.
      external = true;
      enableCompileCache?.();
    }
    return nodeRequire(id);
  };
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Object.assign(mainRequire, { resolve: nodeRequire.resolve, cache: nodeRequire.cache }), module, file, dirname(file));
  return module.exports;
}

module.exports = { BUNDLE, build, canBuild, loadBuild, readBuild, snapshot, staleReason };
