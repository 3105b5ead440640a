// The typed exports (one function per operation, as jco generated them) against the mock Hub.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHub, Hub, HubError } from '../src/index.js';
import { ALICE, ALICE_PAT, ALPINE_TAGS, startMock } from './mock.js';

let mock;
let anon;
let alice;

before(async () => {
  mock = await startMock();
  anon = new Hub({ baseUrl: mock.baseUrl, env: false });
  alice = await createHub({ baseUrl: mock.baseUrl, username: ALICE, token: ALICE_PAT, env: false });
});

after(async () => {
  await mock?.stop();
});

describe('typed exports', () => {
  test('repositories.getRepository reads a public repository anonymously', () => {
    const response = anon.repositories.getRepository({ namespace: 'library', repository: 'alpine' });
    assert.equal(response.status, 200);
    assert.equal(response.contentType, 'application/json');
    assert.equal(response.pages, 1);
    const repo = JSON.parse(response.body);
    assert.equal(repo.name, 'alpine');
    assert.equal(repo.namespace, 'library');
  });

  test('a private repository needs the bearer that createHub minted from the PAT', () => {
    const response = alice.repositories.getRepository({ namespace: 'acme', repository: 'private' });
    assert.equal(response.status, 200);
    assert.equal(JSON.parse(response.body).is_private, true);

    assert.throws(
      () => anon.repositories.getRepository({ namespace: 'acme', repository: 'private' }),
      (e) => e instanceof HubError && e.kind === 'unauthorized',
    );
  });

  test('an operation without arguments takes its options first', () => {
    const scim = new Hub({
      baseUrl: mock.baseUrl,
      scimToken: 'dsa_scim_mock_acme_0000000000000007',
      env: false,
    });
    const response = scim.scim.scimListSchemas({ maxRetries: 0 });
    assert.equal(response.status, 200);
    assert.ok(JSON.parse(response.body).totalResults > 0);
    // With no options at all, too.
    assert.equal(scim.scim.scimGetServiceProviderConfig().status, 200);
  });

  test('repositories.listRepositoryTags returns one page; s64 fields take numbers or BigInt', () => {
    for (const pageSize of [2, 2n]) {
      const response = anon.repositories.listRepositoryTags({
        namespace: 'library',
        repository: 'alpine',
        pageSize,
      });
      const page = JSON.parse(response.body);
      assert.equal(response.pages, 1);
      assert.equal(page.count, ALPINE_TAGS.length);
      assert.deepEqual(
        page.results.map((t) => t.name),
        ALPINE_TAGS.slice(0, 2),
      );
      assert.match(page.next, /page=2/);
    }
  });

  test('allPages follows the page links and merges every page', () => {
    const response = anon.repositories.listRepositoryTags(
      { namespace: 'library', repository: 'alpine', pageSize: 2 },
      { allPages: true },
    );
    assert.equal(response.status, 200);
    assert.equal(response.pages, 3);
    const merged = JSON.parse(response.body);
    assert.deepEqual(
      merged.results.map((t) => t.name),
      ALPINE_TAGS,
    );
    assert.equal(merged.next, null);
    // The mock sends X-RateLimit-* headers; jco lifts u64 as BigInt.
    assert.equal(typeof response.rateLimit?.remaining, 'bigint');
  });

  test('HEAD checks answer { exists }', () => {
    const yes = anon.repositories.checkRepositoryTag({ namespace: 'library', repository: 'alpine', tag: 'latest' });
    assert.deepEqual(JSON.parse(yes.body), { exists: true });
    const no = anon.repositories.checkRepositoryTag({ namespace: 'library', repository: 'alpine', tag: 'no-such-tag' });
    assert.deepEqual(JSON.parse(no.body), { exists: false });
  });

  test('a write (createRepository) as alice, then read back', () => {
    const created = alice.repositories.createRepository({
      namespace: ALICE,
      name: 'from-node',
      description: 'made by the Node.js binding test',
      isPrivate: true,
    });
    assert.equal(created.status, 201);
    const read = alice.repositories.getRepository({ namespace: ALICE, repository: 'from-node' });
    assert.equal(JSON.parse(read.body).description, 'made by the Node.js binding test');
  });

  test('extended operations: update a description, delete a tag, search, who am I', () => {
    alice.repositories.createRepository({ namespace: ALICE, name: 'node-sync', isPrivate: false });
    const updated = alice.repositories.updateRepository({
      namespace: ALICE,
      repository: 'node-sync',
      fullDescription: '# node-sync\n\nFrom the README.',
    });
    assert.equal(JSON.parse(updated.body).full_description, '# node-sync\n\nFrom the README.');
    const read = anon.repositories.getRepository({ namespace: ALICE, repository: 'node-sync' });
    assert.equal(JSON.parse(read.body).full_description, '# node-sync\n\nFrom the README.');

    const found = anon.search.searchRepositories({ query: 'node-sync' });
    assert.deepEqual(JSON.parse(found.body).results.map((r) => r.name), [`${ALICE}/node-sync`]);

    const me = alice.users.getCurrentUser();
    assert.equal(JSON.parse(me.body).username, ALICE);

    const deleted = alice.repositories.deleteRepository({ namespace: ALICE, repository: 'node-sync' });
    assert.equal(deleted.status, 202);
    assert.throws(
      () => anon.repositories.getRepository({ namespace: ALICE, repository: 'node-sync' }),
      (e) => e instanceof HubError && e.kind === 'not-found',
    );
  });

  test('a typed hub-error (not-found) arrives as a thrown HubError with its payload', () => {
    let caught;
    try {
      anon.repositories.getRepository({ namespace: 'library', repository: 'no-such-repo' });
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof HubError);
    assert.equal(caught.kind, 'not-found');
    assert.match(caught.detail, /no-such-repo/);
    assert.deepEqual(caught.payload, { tag: 'not-found', val: caught.detail });
    // The wrapper keeps jco's own error as the cause.
    assert.equal(caught.cause?.payload, caught.payload);
  });

  test("jco's raw exports throw ComponentError with the hub-error in .payload", () => {
    const raw = anon.exports;
    let caught;
    try {
      raw.repositories.getRepository(
        { namespace: 'library', repository: 'no-such-repo' },
        { baseUrl: mock.baseUrl },
      );
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof Error);
    assert.equal(caught.constructor.name, 'ComponentError');
    assert.equal(caught.payload.tag, 'not-found');
    assert.match(caught.payload.val, /no-such-repo/);
    // The instance stays usable after a typed error.
    const ok = raw.repositories.getRepository({ namespace: 'library', repository: 'alpine' }, { baseUrl: mock.baseUrl });
    assert.equal(ok.status, 200);
  });

  test('invalid arguments are refused before anything is sent', () => {
    assert.throws(
      () => anon.repositories.getRepository({ namespace: '..', repository: 'alpine' }),
      (e) => e instanceof HubError && e.kind === 'invalid-argument' && e.detail.name === 'namespace',
    );
  });
});
