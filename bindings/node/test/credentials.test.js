// The `dockhand:hub/credentials` import provided from JavaScript: from createHub's token
// exchange, from the environment, or from a synchronous callback.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHub, exchangeToken, Hub, HubError } from '../src/index.js';
import { ALICE, ALICE_PAT, startMock } from './mock.js';

const PRIVATE = { namespace: 'acme', repository: 'private' };

let mock;

before(async () => {
  mock = await startMock();
});

after(async () => {
  await mock?.stop();
});

describe('credentials', () => {
  test('exchangeToken turns a PAT into a bearer that is not the PAT', async () => {
    const bearer = await exchangeToken({ baseUrl: mock.baseUrl, username: ALICE, token: ALICE_PAT });
    assert.equal(typeof bearer, 'string');
    assert.notEqual(bearer, ALICE_PAT);
    assert.equal(bearer.split('.').length, 3); // a JWT
  });

  test('a base URL ending in /v2 works for the exchange and the calls', async () => {
    const hub = await createHub({ baseUrl: `${mock.baseUrl}/v2/`, username: ALICE, token: ALICE_PAT, env: false });
    assert.equal(hub.repositories.getRepository(PRIVATE).status, 200);
  });

  test('a wrong PAT makes createHub reject with unauthorized, before any component call', async () => {
    await assert.rejects(
      createHub({ baseUrl: mock.baseUrl, username: ALICE, token: 'dckr_pat_wrong', env: false }),
      (e) => e instanceof HubError && e.kind === 'unauthorized' && !e.message.includes('dckr_pat_wrong'),
    );
  });

  test('DOCKHAND_USERNAME / DOCKHAND_TOKEN from the environment', async () => {
    const hub = await createHub({
      baseUrl: mock.baseUrl,
      env: { DOCKHAND_USERNAME: ALICE, DOCKHAND_TOKEN: ALICE_PAT },
    });
    assert.equal(hub.repositories.getRepository(PRIVATE).status, 200);
  });

  test('DOCKHAND_BEARER from the environment', async () => {
    const bearer = await exchangeToken({ baseUrl: mock.baseUrl, username: ALICE, token: ALICE_PAT });
    const hub = new Hub({ baseUrl: mock.baseUrl, env: { DOCKHAND_BEARER: bearer } });
    assert.equal(hub.repositories.getRepository(PRIVATE).status, 200);
  });

  test('a synchronous callback answers credentials.get(account, kind)', async () => {
    const bearer = await exchangeToken({ baseUrl: mock.baseUrl, username: ALICE, token: ALICE_PAT });
    const asked = [];
    const hub = new Hub({
      baseUrl: mock.baseUrl,
      credentials: (account, kind) => {
        asked.push([account, kind]);
        return account === 'work' ? { token: bearer } : null;
      },
    });
    assert.equal(hub.repositories.getRepository(PRIVATE, { account: 'work' }).status, 200);
    assert.deepEqual(asked, [['work', 'hub']]);
    // null: anonymous, so the private repository is refused.
    assert.throws(
      () => hub.repositories.getRepository(PRIVATE),
      (e) => e instanceof HubError && e.kind === 'unauthorized',
    );
    assert.deepEqual(asked.at(-1), ['default', 'hub']);
  });

  test('a rejected bearer: invalidate, one retry, then unauthorized; refresh() mints a new one', async () => {
    const invalidated = [];
    let gets = 0;
    const hub = new Hub({
      baseUrl: mock.baseUrl,
      credentials: () => {
        gets += 1;
        return 'not-a-valid-jwt';
      },
      onInvalidate: (account, kind) => invalidated.push([account, kind]),
    });
    assert.throws(
      () => hub.repositories.getRepository(PRIVATE),
      (e) => e instanceof HubError && e.kind === 'unauthorized',
    );
    assert.equal(gets, 2);
    assert.deepEqual(invalidated, [['default', 'hub']]);

    // Without a callback, a rejected bearer is not offered again until refresh().
    const stale = new Hub({ baseUrl: mock.baseUrl, bearer: 'not-a-valid-jwt' });
    assert.throws(
      () => stale.repositories.getRepository(PRIVATE),
      (e) => e instanceof HubError && e.kind === 'unauthorized' && /401/.test(e.detail),
    );
    await assert.rejects(stale.refresh(), /not created from a username and token/);

    const minted = await createHub({ baseUrl: mock.baseUrl, username: ALICE, token: ALICE_PAT, env: false });
    await minted.refresh();
    assert.equal(minted.repositories.getRepository(PRIVATE).status, 200);
  });

  test('a callback that throws or answers asynchronously becomes unauthorized, not a trap', () => {
    let sealed = true;
    const throwing = new Hub({
      baseUrl: mock.baseUrl,
      credentials: () => {
        if (sealed) throw new Error('vault is sealed');
        return null;
      },
    });
    assert.throws(
      () => throwing.repositories.getRepository(PRIVATE),
      (e) => e instanceof HubError && e.kind === 'unauthorized' && /vault is sealed/.test(e.detail),
    );
    // The same instance goes on working (a throwing callback is `err`, not a trap).
    sealed = false;
    assert.equal(throwing.repositories.getRepository({ namespace: 'library', repository: 'alpine' }).status, 200);

    const asyncCallback = new Hub({ baseUrl: mock.baseUrl, credentials: async () => 'token' });
    assert.throws(
      () => asyncCallback.repositories.getRepository(PRIVATE),
      (e) => e instanceof HubError && e.kind === 'unauthorized' && /synchronously/.test(e.detail),
    );
  });
});
