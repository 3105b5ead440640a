#!/usr/bin/env bash
# Cross-runtime tests: the dockhand component from Node.js (jco + preview2-shim) and from Python
# (wasmtime-py), each against the mock Docker Hub.
#
# Builds the component, the self-contained component and the `dockhand` CLI (which serves the
# mock), installs the pinned packages into bindings/node/node_modules and bindings/python/.venv
# (nothing global), transpiles both components with jco, and runs `node --test` and pytest. Exits non-zero if any
# step or any test fails; pytest's "no tests collected" (exit 5) counts as a failure.
#
# Respects $CARGO_TARGET_DIR. Set DOCKHAND_SKIP_BUILD=1 to use what is already built.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

target_dir="${CARGO_TARGET_DIR:-$repo/target}"
case "$target_dir" in
  /*) ;;
  *) target_dir="$repo/$target_dir" ;; # cargo reads a relative CARGO_TARGET_DIR from the cwd
esac
export DOCKHAND_WASM="$target_dir/wasm32-wasip2/release/dockhand_plugin.wasm"
export DOCKHAND_STANDALONE_WASM="$target_dir/wasm32-wasip2/release/dockhand-standalone.wasm"
export DOCKHAND_BIN="$target_dir/debug/dockhand"

echo "== bindings: build the component and the CLI"
if [ "${DOCKHAND_SKIP_BUILD:-}" != 1 ]; then
  # The plugin, the credentials provider, and their composition (dockhand-standalone.wasm).
  nice -n 10 cargo xtask standalone
  nice -n 10 cargo build -p dockhand-host --bin dockhand
fi
for f in "$DOCKHAND_WASM" "$DOCKHAND_STANDALONE_WASM" "$DOCKHAND_BIN"; do
  [ -f "$f" ] || { echo "missing $f" >&2; exit 1; }
done

failed=()

echo "== bindings/node: install, transpile, test"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "Node.js 20 or newer is needed, found $(node --version)" >&2
  exit 1
fi
# (`&&` inside these subshells: `set -e` does not apply on the left of `||`.)
(
  cd "$here/node" &&
  # `npm ci` refuses jco's lock file (npm 11 and optional platform packages, see
  # ../shared/docs/pitfalls.md); `npm install --no-save` installs the locked versions and writes
  # nothing.
  npm install --no-save --no-audit --no-fund --loglevel=error &&
    node scripts/transpile.js "$DOCKHAND_WASM" &&
    node scripts/transpile.js --standalone "$DOCKHAND_STANDALONE_WASM"
) || { echo "bindings/node: setup failed" >&2; exit 1; }
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
set +e
(cd "$here/node" && node --test --test-reporter=tap test/*.test.js) 2>&1 | tee "$logs/node.log"
node_status=${PIPESTATUS[0]}
set -e
if [ "$node_status" -eq 0 ]; then
  echo "bindings/node: tests passed"
else
  failed+=(node)
fi

echo "== bindings/python: venv, install, test"
(
  cd "$here/python" &&
    { .venv/bin/python -c 'import sys' >/dev/null 2>&1 || python3 -m venv --clear .venv; } &&
    .venv/bin/python -m pip install --disable-pip-version-check --no-input -q -r requirements.txt
) || { echo "bindings/python: setup failed" >&2; exit 1; }
set +e
(cd "$here/python" && .venv/bin/python -m pytest) 2>&1 | tee "$logs/python.log"
py_status=${PIPESTATUS[0]}
set -e
if [ "$py_status" -eq 0 ]; then
  echo "bindings/python: tests passed"
else
  [ "$py_status" -eq 5 ] && echo "bindings/python: pytest collected no tests" >&2
  failed+=(python)
fi

# Counts from node's TAP summary and pytest's last line, and one closing line over both.
set +o pipefail # a grep that finds nothing is fine here
sum_of() { grep -Eo "$1" "$2" | awk '{ n += $(NF) } END { print n + 0 }'; }
node_pass="$(sum_of '^# pass [0-9]+' "$logs/node.log")"
node_fail="$(sum_of '^# fail [0-9]+' "$logs/node.log")"
py_pass="$(grep -Eo '[0-9]+ passed' "$logs/python.log" | tail -n 1 | awk '{ print $1 + 0 }')"
py_fail="$(grep -Eo '[0-9]+ (failed|errors?)' "$logs/python.log" | awk '{ n += $1 } END { print n + 0 }')"
py_pass="${py_pass:-0}"
# A suite that failed without a failing test (setup error, pytest's exit 5) still counts one.
[ "$node_status" -ne 0 ] && [ "$node_fail" -eq 0 ] && node_fail=1
[ "$py_status" -ne 0 ] && [ "$py_fail" -eq 0 ] && py_fail=1
echo "bindings: node ${node_pass} passed, ${node_fail} failed; python ${py_pass} passed, ${py_fail} failed"
echo "bindings: $((node_pass + py_pass)) passed, $((node_fail + py_fail)) failed"

if [ "${#failed[@]}" -gt 0 ]; then
  echo "bindings: FAILED: ${failed[*]}" >&2
  exit 1
fi
