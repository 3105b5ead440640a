// The catalog: operations(), docs() and the dynamic call(), against the mock Hub.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHub, Hub, HubError } from '../src/index.js';
import { ALICE, ALICE_PAT, ALPINE_TAGS, startMock } from './mock.js';

let mock;
let anon;

before(async () => {
  mock = await startMock();
  anon = new Hub({ baseUrl: mock.baseUrl, env: false });
});

after(async () => {
  await mock?.stop();
});

describe('catalog', () => {
  test('operations() lists every operation with its names, argument and result schemas', () => {
    const ops = anon.catalog.operations();
    // Docker's 54 published operations and the 6 extended ones its own tools use.
    assert.equal(ops.length, 60);
    assert.ok(ops.some((op) => op.name === 'search_repositories' && op.area === 'search'));
    const tags = ops.find((op) => op.name === 'list_repository_tags');
    assert.ok(tags);
    assert.ok(tags.aliases.includes('docker_list_tags'));
    assert.equal(tags.method, 'GET');
    assert.equal(tags.access, 'read');
    assert.equal(tags.area, 'repositories');
    const schema = JSON.parse(tags.argsSchema);
    assert.equal(schema.type, 'object');
    assert.ok(schema.required.includes('namespace'));
    const result = JSON.parse(tags.resultSchema);
    assert.ok('name' in result.properties.results.items.properties);
  });

  test('docs(topic) is markdown for one operation, by any of its names', () => {
    const md = anon.catalog.docs('docker_list_tags');
    assert.match(md, /^# list_repository_tags/m);
    assert.throws(
      () => anon.catalog.docs('no_such_topic'),
      (e) => e instanceof HubError,
    );
  });

  test('call() takes arguments as an object or as JSON text, and any name', () => {
    const byObject = anon.catalog.call('list_repository_tags', {
      namespace: 'library',
      repository: 'alpine',
      page_size: 3,
    });
    assert.equal(byObject.status, 200);
    assert.equal(JSON.parse(byObject.body).results.length, 3);

    const byJson = anon.catalog.call(
      'docker_list_tags',
      JSON.stringify({ namespace: 'library', repository: 'alpine', page_size: 3 }),
    );
    assert.deepEqual(JSON.parse(byJson.body).results, JSON.parse(byObject.body).results);

    const byOperationId = anon.catalog.call('GetRepository', { namespace: 'library', repository: 'alpine' });
    assert.equal(JSON.parse(byOperationId.body).name, 'alpine');
  });

  test('call() with allPages merges every page; maxPages caps it', () => {
    const all = anon.catalog.call(
      'list_repository_tags',
      { namespace: 'library', repository: 'alpine', page_size: 2 },
      { allPages: true },
    );
    assert.equal(all.pages, 3);
    assert.deepEqual(
      JSON.parse(all.body).results.map((t) => t.name),
      ALPINE_TAGS,
    );

    const capped = anon.catalog.call(
      'list_repository_tags',
      { namespace: 'library', repository: 'alpine', page_size: 2 },
      { allPages: true, maxPages: 2 },
    );
    assert.equal(capped.pages, 2);
    const body = JSON.parse(capped.body);
    assert.equal(body.results.length, 4);
    assert.match(body.next, /page=3/);
  });

  test('hub.call() returns the parsed result', () => {
    const repo = anon.call('get_repository', { namespace: 'library', repository: 'alpine' });
    assert.equal(repo.name, 'alpine');
  });

  test('errors from call(): unknown operation, invalid argument, not found', () => {
    assert.throws(
      () => anon.catalog.call('no_such_operation', {}),
      (e) => e instanceof HubError && e.kind === 'unknown-operation' && /no_such_operation/.test(e.detail),
    );
    assert.throws(
      () => anon.catalog.call('get_repository', { namespace: 'library' }),
      (e) =>
        e instanceof HubError &&
        e.kind === 'invalid-argument' &&
        e.detail.name === 'repository' &&
        typeof e.detail.reason === 'string',
    );
    assert.throws(
      () => anon.catalog.call('get_repository', '{not json'),
      (e) => e instanceof HubError && e.kind === 'invalid-argument' && e.detail.name === 'args-json',
    );
    assert.throws(
      () => anon.call('get_repository_tag', { namespace: 'library', repository: 'alpine', tag: 'nope' }),
      (e) => e instanceof HubError && e.kind === 'not-found',
    );
  });

  test('call() with credentials: a write by alice is seen by a later read', async () => {
    const alice = await createHub({ baseUrl: mock.baseUrl, username: ALICE, token: ALICE_PAT, env: false });
    const created = alice.call('create_repository', { namespace: ALICE, name: 'node-dynamic', is_private: false });
    assert.equal(created.name, 'node-dynamic');
    const listed = anon.call('list_repositories', { namespace: ALICE, page_size: 100 });
    assert.ok(listed.results.some((r) => r.name === 'node-dynamic'));
  });

  test('planTagCleanup() plans through the component and changes nothing', () => {
    const plan = anon.planTagCleanup('library', 'alpine', { keepLast: 2 });
    assert.deepEqual(plan.totals, { tags: ALPINE_TAGS.length, delete: 2, keep: 3 });
    const latest = plan.tags.find((t) => t.name === 'latest');
    assert.equal(latest.action, 'keep');
    assert.equal(latest.rule, 'latest');
    assert.deepEqual(plan.tags.map((t) => t.name).sort(), [...ALPINE_TAGS].sort());
    assert.equal(anon.call('list_repository_tags', { namespace: 'library', repository: 'alpine' }).count, ALPINE_TAGS.length);
    assert.throws(
      () => anon.planTagCleanup('library', 'alpine', { olderThan: 0, matching: '' }),
      (e) => e instanceof HubError && e.kind === 'invalid-argument',
    );
  });

  test('applyTagCleanup() deletes what the plan says, once, and only within maxDelete', async () => {
    const alice = await createHub({ baseUrl: mock.baseUrl, username: ALICE, token: ALICE_PAT, env: false });
    const plan = alice.planTagCleanup('acme', 'private', { matching: '^v0\\.' });
    assert.deepEqual(plan.totals, { tags: 2, delete: 1, keep: 1 });
    assert.throws(
      () => alice.applyTagCleanup(plan, { maxDelete: 0 }),
      (e) => e instanceof HubError && e.kind === 'invalid-argument',
    );
    const report = alice.applyTagCleanup(plan);
    assert.deepEqual(report.deleted, ['v0.9.0']);
    assert.equal(report.planned, 1);
    const again = alice.applyTagCleanup(plan);
    assert.deepEqual(again.deleted, []);
    assert.deepEqual(again.already_gone, ['v0.9.0']);
    const left = alice.call('list_repository_tags', { namespace: 'acme', repository: 'private' });
    assert.deepEqual(left.results.map((t) => t.name), ['v1.0.0']);
  });
});
