// Uses of the result types that must type-check: `tsc -p test/types` (run by ../types.test.js).
// Nothing here runs.

import { parseResult } from '../../src/index.js';
import type {
  AreaResults,
  GetRepositoryResult,
  Hub,
  ListRepositoryTagsResult,
  ListRepositoryTagsResultResultsItem,
  ResultOf,
  ResultResponse,
} from '../../src/index.js';
import type { Root } from '../../gen/dockhand.js';

declare const hub: Hub;
const alpine = { namespace: 'library', repository: 'alpine' };

// `Hub.call`: the parsed result, typed by the operation's name, by any of its names.
const page = hub.call('list_repository_tags', { ...alpine, page_size: 2 });
const count: number | undefined = page.count;
const next: string | null | undefined = page.next;
const tags: string[] = (page.results ?? []).map((tag) => tag.name ?? '');
const status: 'active' | 'inactive' | undefined = page.results?.[0]?.status;
const byAlias: ListRepositoryTagsResult = hub.call('docker_list_tags', alpine);
const byOperationId: ListRepositoryTagsResult = hub.call('ListRepositoryTags', alpine);
const repo = hub.call('get_repository', alpine);
const isPrivate: boolean = repo.is_private; // a required property
const readable: boolean = repo.permissions.read;
const exists: boolean = hub.call('check_repository_tag', { ...alpine, tag: 'latest' }).exists;
const nothing: null = hub.call('delete_personal_access_token', { uuid: 'x' });
const csv = hub.call('export_org_members', { org_name: 'acme' });
const text: string = csv.body;
const contentType: string = csv.content_type;
// A name not known statically: `unknown`, to be narrowed.
const dynamic: unknown = hub.call(String('get_repository'), alpine);

// Typed functions: the response as before, its body typed with the function's result.
const response = hub.repositories.getRepository(alpine);
const httpStatus: number = response.status;
const body: string = response.body;
const parsed: GetRepositoryResult = parseResult(response);
const tag: ListRepositoryTagsResultResultsItem | undefined = parseResult(
  hub.repositories.listRepositoryTags({ ...alpine, pageSize: 2n }),
).results?.[0];
const viaCatalog = parseResult(hub.catalog.call('get_repository', alpine));
const name: string = viaCatalog.name;
const untyped: ResultResponse<unknown> = hub.catalog.call(String('get_repository'), alpine);
// `ResultOf` by name.
const lookedUp: ResultOf['get_repository'] = parsed;

// Every area and every typed function has its result type: `AreaResults` names exactly the
// areas and functions of jco's exports, so a WIT change that the catalog does not follow (or the
// other way round) fails here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Areas = Exclude<keyof Root, `${string}:${string}` | 'types' | 'catalog'>;
type AllTrue<T> = T[keyof T] extends true ? true : false;
const sameAreas: Same<keyof AreaResults, Areas> = true;
const sameFunctions: AllTrue<{ [A in Areas]: Same<keyof AreaResults[A], keyof Root[A]> }> = true;

// An operation without arguments takes only (optional) options.
const schemas: number | undefined = parseResult(hub.scim.scimListSchemas()).totalResults;
const withOptions = hub.scim.scimListSchemas({ maxRetries: 0 });

export {
  schemas, withOptions, count, next, tags, status, byAlias, byOperationId, isPrivate, readable, exists, nothing, text,
  contentType, dynamic, httpStatus, body, tag, name, untyped, lookedUp, sameAreas, sameFunctions,
};
