#!/usr/bin/env node
'use strict';
// The package's `install` script. It never fails the install:
//   1. a binary node-gyp-build finds (prebuilds/<platform>-<arch>/…, or an
//      earlier build in build/Release) that actually loads -> done, no build step;
//   2. otherwise, when cmake-js is installed (it is a devDependency, not a
//      dependency: users whose prebuild loads never download a build tool),
//      build from source with `cmake-js compile` (needs cmake and a C++17
//      compiler) and check that the result loads;
//   3. if that fails too: print ONE warning, saying what to run for a source
//      build, and exit 0. The package then runs on its pure-JS engine
//      (`diagnose()` says why).
// Nothing at run time depends on this script: with install scripts disabled
// (npm --ignore-scripts, or npm's allowScripts), the loader still finds the
// prebuild, or falls back to the JS engine.
//
// Environment:
//   npm_config_build_from_source=true (npm install --build-from-source)  skip step 1
//   AMPLITUDE_EXPERIMENT_ENGINE=js                                       skip everything
//   AMPLITUDE_EXPERIMENT_INSTALL_VERBOSE=1                               show the build output

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const NAME = 'amplitude-experiment-native';
const verbose = process.env.AMPLITUDE_EXPERIMENT_INSTALL_VERBOSE === '1';
const log = (msg) => {
  if (verbose) console.log(`${NAME}: ${msg}`);
};

// The packages a source build needs besides cmake and a compiler; the
// versions this package is tested with (its devDependencies).
const BUILD_PACKAGES = ['cmake-js@8', 'node-addon-api@8'];

const NO_CMAKE_JS = 'cmake-js is not installed for a source build';

/** The command(s) that give this platform a source build. */
function sourceBuildHint(failure) {
  const rebuild = `npm rebuild ${NAME}`;
  if (failure === NO_CMAKE_JS) return `npm install --save-dev ${BUILD_PACKAGES.join(' ')} && ${rebuild}`;
  return rebuild;
}

/** How to get cmake and a C++17 compiler here. */
function toolchainHint() {
  if (process.platform === 'win32') return 'Visual Studio Build Tools with "Desktop development with C++", and cmake';
  if (process.platform === 'darwin') return 'xcode-select --install; brew install cmake';
  if (fs.existsSync('/etc/alpine-release')) return 'apk add cmake build-base';
  return 'Debian/Ubuntu: apt-get install cmake g++';
}

function warn(failure, fromSource) {
  // One clear warning; the install still succeeds.
  const reason = `${fromSource ? 'building from source as asked' : 'no prebuilt binary loads here'}; ${failure}`;
  console.warn(
    `${NAME}: WARNING: no native engine for ${process.platform}-${process.arch} (${reason}). ` +
      'The SDK will use its pure-JS engine: same results, slower evaluation. ' +
      `To build the native engine from source, install cmake and a C++17 compiler (${toolchainHint()}), ` +
      `then run: \`${sourceBuildHint(failure)}\`` +
      ` (where npm blocks dependency install scripts, first: \`npm install-scripts approve ${NAME}\`)`,
  );
}

/** Path of the binary node-gyp-build would load, if it dlopens; else undefined. */
function loadable(opts = {}) {
  let file;
  try {
    const nodeGypBuild = require('node-gyp-build');
    const saved = process.env.PREBUILDS_ONLY;
    if (opts.prebuildsOnly) process.env.PREBUILDS_ONLY = '1';
    try {
      file = nodeGypBuild.resolve(root);
    } finally {
      if (saved === undefined) delete process.env.PREBUILDS_ONLY;
      else process.env.PREBUILDS_ONLY = saved;
    }
  } catch (err) {
    log(`no binary: ${err.message.split('\n')[0]}`);
    return undefined;
  }
  // Load it in a child: a bad binary can abort the process, not just throw.
  const r = spawnSync(process.execPath, ['-e', 'require(process.argv[1])', file], { encoding: 'utf8' });
  if (r.status === 0) return file;
  log(`${file} does not load: ${(r.stderr || '').trim().split('\n').slice(0, 3).join(' ')}`);
  return undefined;
}

function buildFromSource() {
  if (!fs.existsSync(path.join(root, 'CMakeLists.txt'))) return 'no C++ sources in this package';
  let cmakeJs;
  try {
    cmakeJs = path.join(path.dirname(require.resolve('cmake-js/package.json', { paths: [root] })), 'bin', 'cmake-js');
  } catch {
    return NO_CMAKE_JS;
  }
  log('building from source with cmake-js');
  const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build', '--parallel', '2'], {
    cwd: root,
    stdio: verbose ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status === 0) return undefined;
  const out = `${r.stdout || ''}\n${r.stderr || ''}`;
  if (/C\+\+ Compiler toolset is not available|No such file or directory.*(g\+\+|c\+\+|clang)/i.test(out)) {
    return 'no C++ compiler found for the source build';
  }
  if (/CMake executable is not found|cmake: not found|spawn cmake ENOENT/i.test(out)) {
    return 'cmake not found for the source build';
  }
  const lastError = out
    .split('\n')
    .filter((l) => /error/i.test(l))
    .slice(-1)[0];
  return `the source build failed${lastError ? ': ' + lastError.trim().slice(0, 200) : ''}`;
}

function main() {
  if ((process.env.AMPLITUDE_EXPERIMENT_ENGINE || '').toLowerCase() === 'js') {
    log('AMPLITUDE_EXPERIMENT_ENGINE=js: skipping the native engine');
    return;
  }
  const fromSource = /^(true|1)$/i.test(process.env.npm_config_build_from_source || '');
  if (!fromSource) {
    const file = loadable();
    if (file) {
      log(`using ${path.relative(root, file)}`);
      return;
    }
  }
  const buildDir = path.join(root, 'build');
  const hadBuildDir = fs.existsSync(buildDir);
  const failure = buildFromSource();
  if (!failure) {
    const file = loadable();
    if (file) {
      log(`built ${path.relative(root, file)}`);
      return;
    }
  }
  // Leave no half-built or unloadable binary where node-gyp-build would pick it
  // up first (build/Release wins over prebuilds). A build/ that was there before
  // (a development checkout) is not ours to delete.
  if (!hadBuildDir) fs.rmSync(buildDir, { recursive: true, force: true });
  warn(failure || 'the binary built from source does not load', fromSource);
}

try {
  main();
} catch (err) {
  warn(`install script error: ${err && err.message}`, false);
}
process.exitCode = 0;
