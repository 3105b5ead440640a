// The allow-list around preview2-shim's outgoing handler: only the base URL's exact scheme, host
// and port; anything else is `HTTP-request-denied`, which the component reports as `denied`.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Hub, HubError } from '../src/index.js';
import { settle, startMock, startRecorder } from './mock.js';

let mock;
let recorder;

before(async () => {
  mock = await startMock();
  recorder = await startRecorder();
});

after(async () => {
  await recorder?.stop();
  await mock?.stop();
});

const ALPINE = { namespace: 'library', repository: 'alpine' };

describe('egress allow-list', () => {
  test('a request to another authority is denied and nothing reaches it', async () => {
    const hub = new Hub({ baseUrl: mock.baseUrl, env: false });
    assert.throws(
      () => hub.repositories.getRepository(ALPINE, { baseUrl: recorder.baseUrl }),
      (e) => e instanceof HubError && e.kind === 'denied' && e.payload.tag === 'denied',
    );
    assert.deepEqual(hub.denied, [
      { origin: `http://127.0.0.1:${recorder.port}`, method: 'GET', path: '/v2/namespaces/library/repositories/alpine' },
    ]);
    await settle();
    assert.equal(recorder.connections(), 0);

    // The recorder does count connections: a direct one shows up.
    await new Promise((r) => net.connect(recorder.port, '127.0.0.1', r).on('connect', function () { this.destroy(); }));
    await settle();
    assert.equal(recorder.connections(), 1);
  });

  test('only the exact scheme, host and port of the base URL are allowed', async () => {
    // The component would get a good answer from the mock under the name `localhost`, but that
    // authority differs from the allowed `127.0.0.1`, so the request is refused.
    const hub = new Hub({ baseUrl: mock.baseUrl, env: false });
    const viaLocalhost = `http://localhost:${mock.port}`;
    assert.throws(
      () => hub.catalog.call('get_repository', ALPINE, { baseUrl: viaLocalhost }),
      (e) => e instanceof HubError && e.kind === 'denied',
    );
    // Same host and port, other scheme: denied too.
    assert.throws(
      () => hub.call('get_repository', ALPINE, { baseUrl: `https://127.0.0.1:${mock.port}` }),
      (e) => e instanceof HubError && e.kind === 'denied',
    );
    // The default base URL (https://hub.docker.com) is not allowed for a Hub made for the mock.
    assert.throws(
      () => hub.exports.repositories.getRepository(ALPINE, {}),
      (e) => e.payload?.tag === 'denied',
    );
    assert.equal(hub.denied.length, 3);
    assert.deepEqual(
      hub.denied.map((d) => d.origin),
      [`http://localhost:${mock.port}`, `https://127.0.0.1:${mock.port}`, 'https://hub.docker.com:443'],
    );

    // allowedOrigins extends the list.
    const wider = new Hub({ baseUrl: mock.baseUrl, env: false, allowedOrigins: [viaLocalhost] });
    assert.equal(wider.call('get_repository', ALPINE, { baseUrl: viaLocalhost }).name, 'alpine');
    assert.equal(wider.denied.length, 0);
  });

  test('a paginated call towards a non-allowed authority stops at its first request', async () => {
    const hub = new Hub({ baseUrl: mock.baseUrl, env: false });
    const before = recorder.connections();
    assert.throws(
      () =>
        hub.call('list_repository_tags', { ...ALPINE, page_size: 1 }, { baseUrl: recorder.baseUrl, allPages: true }),
      (e) => e instanceof HubError && e.kind === 'denied',
    );
    assert.equal(hub.denied.length, 1);
    await settle();
    assert.equal(recorder.connections(), before);
  });
});
