// Starts the mock Docker Hub (`dockhand mock`) on a free loopback port for one test file.
// The binary is $DOCKHAND_BIN, else $CARGO_TARGET_DIR/debug/dockhand, else <repo>/target/debug/dockhand;
// building it is the job of bindings/run-tests.sh.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

// Fixtures of the mock's built-in seed (mock/src/fixtures.rs).
export const ALICE = 'alice';
export const ALICE_PAT = 'dckr_pat_mock_alice_admin_0000000001';
export const ALPINE_TAGS = ['latest', '3.20', 'edge', '3.19', '3.18'];

export function dockhandBin() {
  const candidates = [
    process.env.DOCKHAND_BIN,
    process.env.CARGO_TARGET_DIR && join(resolve(process.env.CARGO_TARGET_DIR), 'debug', 'dockhand'),
    join(repoDir, 'target', 'debug', 'dockhand'),
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `the dockhand binary was not found (looked at ${candidates.join(', ')}); ` +
        'build it with `cargo build -p dockhand-host --bin dockhand` or set DOCKHAND_BIN',
    );
  }
  return found;
}

/** Starts the mock; resolves to `{ baseUrl, port, stop() }`. */
export async function startMock() {
  const child = spawn(dockhandBin(), ['mock', '--addr', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const baseUrl = await new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error('the mock did not start within 30 s')), 30_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the mock exited early with code ${code}`));
    });
    lines.once('line', (line) => {
      clearTimeout(timer);
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match) resolvePromise(match[1]);
      else reject(new Error(`unexpected first line from the mock: ${line}`));
    });
  });
  // Keep draining stdout so the mock never blocks on a full pipe.
  lines.on('line', () => {});
  child.removeAllListeners('exit');
  return {
    baseUrl,
    port: Number(new URL(baseUrl).port),
    stop: () =>
      new Promise((resolvePromise) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolvePromise();
        child.once('exit', () => resolvePromise());
        child.kill('SIGTERM');
      }),
  };
}

/** A TCP listener on a free loopback port that only counts connections, to prove none was made. */
export async function startRecorder() {
  let connections = 0;
  const sockets = new Set();
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    connections: () => connections,
    stop: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Lets pending I/O callbacks (an accepted connection, say) run. */
export function settle(ms = 100) {
  return new Promise((r) => setTimeout(r, ms));
}
