// The self-contained component (dockhand-standalone.wasm, from `cargo xtask standalone`),
// transpiled by jco into gen-standalone/ and instantiated with preview2-shim's stock WASI alone:
// no credentials import is written here. The bearer comes from the guest's environment, which
// the shim's sandbox sets per instance.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import { ALICE, ALICE_PAT, startMock } from './mock.js';

const GEN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'gen-standalone');
const PRIVATE = JSON.stringify({ namespace: 'acme', repository: 'private' });

let mock;
let generated;

before(async () => {
  mock = await startMock();
  generated = await import(pathToFileURL(join(GEN_DIR, 'dockhand.js')).href);
});

after(async () => {
  await mock?.stop();
});

/** A fresh instance whose WASI environment is `env`; its `catalog` interface. */
function catalog(env) {
  const wasi = new WASIShim({ sandbox: { env, args: ['dockhand'] } }).getImportObject();
  const imports = { ...wasi };
  for (const [key, value] of Object.entries(wasi)) imports[`${key}@0.2.12`] = value;
  const getCoreModule = (name) => new WebAssembly.Module(readFileSync(join(GEN_DIR, name)));
  return generated.instantiate(getCoreModule, imports).catalog;
}

function options(account) {
  return { account, baseUrl: mock.baseUrl };
}

async function mintBearer() {
  // Minted outside the guest, as the docs advise: the PAT never enters it.
  const answer = await fetch(`${mock.baseUrl}/v2/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identifier: ALICE, secret: ALICE_PAT }),
  });
  return (await answer.json()).access_token;
}

describe('the standalone component under jco', () => {
  test('lists its operations with no host function written for it', () => {
    const names = catalog({}).operations().map((op) => op.name);
    assert.equal(names.length, 60);
    assert.ok(names.includes('list_repository_tags'));
  });

  test('a call carries the bearer from DOCKHAND_BEARER', async () => {
    const bearer = await mintBearer();
    const answer = catalog({ DOCKHAND_BEARER: bearer }).call('get_repository', PRIVATE, options());
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(answer.body).name, 'private');
  });

  test('a named account reads DOCKHAND_<ACCOUNT>_BEARER', async () => {
    const bearer = await mintBearer();
    const env = { DOCKHAND_BEARER: 'not-this-one', DOCKHAND_WORK_BEARER: bearer };
    const answer = catalog(env).call('get_repository', PRIVATE, options('work'));
    assert.equal(answer.status, 200);
  });

  test('with no bearer set the call is anonymous', () => {
    assert.throws(
      () => catalog({}).call('get_repository', PRIVATE, options()),
      (e) => e.payload?.tag === 'unauthorized',
    );
  });
});
