#!/usr/bin/env node
// Transpiles the dockhand component into gen/ with jco, for synchronous instantiation; with
// `--standalone`, the self-contained component into gen-standalone/ instead.
//
// The component is taken from, in order: the first argument, $DOCKHAND_WASM
// ($DOCKHAND_STANDALONE_WASM), $CARGO_TARGET_DIR/wasm32-wasip2/release/dockhand_plugin.wasm
// (dockhand-standalone.wasm), and the same under <repo>/target. Build it first with
// `cargo build -p dockhand-plugin --target wasm32-wasip2 --release` (`cargo xtask standalone`).
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = resolve(here, '..');
const repoDir = resolve(pkgDir, '..', '..');
const standalone = process.argv.includes('--standalone');
const argument = process.argv.slice(2).find((a) => a !== '--standalone');
const outDir = join(pkgDir, standalone ? 'gen-standalone' : 'gen');
const fileName = standalone ? 'dockhand-standalone.wasm' : 'dockhand_plugin.wasm';

function componentPath() {
  const candidates = [
    argument,
    standalone ? process.env.DOCKHAND_STANDALONE_WASM : process.env.DOCKHAND_WASM,
    process.env.CARGO_TARGET_DIR &&
      join(resolve(process.env.CARGO_TARGET_DIR), 'wasm32-wasip2', 'release', fileName),
    join(repoDir, 'target', 'wasm32-wasip2', 'release', fileName),
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    console.error(`dockhand component not found; looked at:\n  ${candidates.join('\n  ')}`);
    console.error(
      standalone
        ? 'build it with: cargo xtask standalone'
        : 'build it with: cargo build -p dockhand-plugin --target wasm32-wasip2 --release',
    );
    process.exit(1);
  }
  return found;
}

const wasm = componentPath();
// jco's own CLI entry point from this package's node_modules (never a global jco).
const jcoCli = join(pkgDir, 'node_modules', '@bytecodealliance', 'jco', 'dist', 'jco.js');
if (!existsSync(jcoCli)) {
  console.error(`${jcoCli} is missing; run \`npm install --no-save\` in ${pkgDir} first`);
  process.exit(1);
}

rmSync(outDir, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [
    jcoCli,
    'transpile',
    wasm,
    '--out-dir', outDir,
    '--name', 'dockhand',
    // The caller supplies every import (the credentials, a guarded outgoing-handler, or for the
    // standalone component WASI alone), per instance.
    '--instantiation', 'sync',
    '--quiet',
  ],
  { stdio: 'inherit' },
);
console.log(`transpiled ${wasm} -> ${outDir}`);
