// Types of the wrapper. The component's own types come from jco's output in gen/ (written by
// `npm run transpile`).

import type { Root } from '../gen/dockhand.js';
import type { CallOptions, HubError as HubErrorPayload, Response } from '../gen/interfaces/dockhand-hub-types.js';
import type * as Catalog from '../gen/interfaces/dockhand-hub-catalog.js';
import type { AreaResults, ResultOf } from './results.js';

export type { CallOptions, Response, HubErrorPayload };
// Every operation's result type (`ListRepositoryTagsResult`, ...), `ResultOf` (by operation
// name) and `AreaResults` (by area and typed function), generated from the catalog.
export type * from './results.js';
export type CredentialKind = 'hub' | 'scim';
export type CredentialAnswer = string | { token: string } | null | undefined;

export declare const DEFAULT_BASE_URL: string;

/** A typed `hub-error` from the component. */
export declare class HubError extends Error {
  /** The case: `not-found`, `denied`, `invalid-argument`, ... */
  readonly kind: HubErrorPayload['tag'];
  /** The case's payload. */
  readonly detail: HubErrorPayload['val'];
  /** The error as jco lifted it: `{ tag, val }`. */
  readonly payload: HubErrorPayload;
}

export interface HubConfig {
  /** The Hub (default https://hub.docker.com); requests may go to its origin only. */
  baseUrl?: string;
  /** A ready bearer for account `default`. */
  bearer?: string;
  /** The SCIM bearer for account `default`. */
  scimToken?: string;
  /** Named accounts with ready bearers. */
  accounts?: Record<string, { bearer?: string; scimToken?: string }>;
  /** Answers `credentials.get` synchronously; null or undefined means anonymous. */
  credentials?: (account: string, kind: CredentialKind) => CredentialAnswer;
  /** Told when the Hub rejected a credential with 401 (the component then asks once more). */
  onInvalidate?: (account: string, kind: CredentialKind) => void;
  /** Further origins requests may go to, as `scheme://host[:port]`. */
  allowedOrigins?: string[];
  /** Where DOCKHAND_* variables are read when no credential is given (default process.env). */
  env?: Record<string, string | undefined> | false;
}

export interface CreateHubConfig extends HubConfig {
  /** User or organization name for the token exchange (or DOCKHAND_USERNAME). */
  username?: string;
  /** Personal access token, organization access token or password (or DOCKHAND_TOKEN). */
  token?: string;
  fetch?: typeof globalThis.fetch;
}

declare const resultType: unique symbol;

/** JSON text of a `T`: a string, typed with what it parses to. */
export type JsonText<T> = string & { readonly [resultType]?: T };

/** A `Response` whose `body` is the JSON text of a `T`; `parseResult` reads it. */
export interface ResultResponse<T> extends Response {
  body: JsonText<T>;
}

/** The result a response carries: its body parsed (`null` for an empty body). */
export declare function parseResult<T>(response: ResultResponse<T>): T;

/**
 * A typed area function with `options` optional and `baseUrl` filled in, its response typed with
 * the function's result type from `R`.
 */
type Wrapped<T, R> = {
  [K in keyof T]: T[K] extends (...params: infer P) => Response
    ? P extends [options: CallOptions]
      ? // An operation without arguments takes only the options.
        (options?: CallOptions) => ResultResponse<K extends keyof R ? R[K] : unknown>
      : P extends [args: infer A, options: CallOptions]
        ? (args: A, options?: CallOptions) => ResultResponse<K extends keyof R ? R[K] : unknown>
        : T[K]
    : T[K];
};

export declare class Hub {
  constructor(config?: HubConfig);
  readonly baseUrl: string;
  /** Requests the allow-list refused. */
  readonly denied: Array<{ origin: string; method: string; path: string }>;
  /** jco's exports as generated: errors are ComponentError with `.payload`; no default baseUrl. */
  readonly exports: Root;
  readonly catalog: {
    operations(): Catalog.OperationInfo[];
    docs(topic?: string): string;
    call<K extends keyof ResultOf>(
      operation: K,
      args?: object | string,
      options?: CallOptions,
    ): ResultResponse<ResultOf[K]>;
    call(operation: string, args?: object | string, options?: CallOptions): Response;
    planTagCleanup(
      namespace: string,
      repository: string,
      policy?: TagCleanupPolicy,
      options?: CallOptions,
    ): Response;
    applyTagCleanup(plan: TagCleanupPlan | string, maxDelete?: number, options?: CallOptions): Response;
  };
  readonly accessTokens: Wrapped<Root['accessTokens'], AreaResults['accessTokens']>;
  readonly auditLogs: Wrapped<Root['auditLogs'], AreaResults['auditLogs']>;
  readonly authentication: Wrapped<Root['authentication'], AreaResults['authentication']>;
  readonly groups: Wrapped<Root['groups'], AreaResults['groups']>;
  readonly invites: Wrapped<Root['invites'], AreaResults['invites']>;
  readonly orgAccessTokens: Wrapped<Root['orgAccessTokens'], AreaResults['orgAccessTokens']>;
  readonly orgSettings: Wrapped<Root['orgSettings'], AreaResults['orgSettings']>;
  readonly orgs: Wrapped<Root['orgs'], AreaResults['orgs']>;
  readonly repositories: Wrapped<Root['repositories'], AreaResults['repositories']>;
  readonly scim: Wrapped<Root['scim'], AreaResults['scim']>;
  /**
   * Runs any operation by any of its names; returns the parsed JSON result, typed by the
   * operation's name (`unknown` for a name not known statically).
   */
  call<K extends keyof ResultOf>(operation: K, args?: object, options?: CallOptions): ResultOf[K];
  call(operation: string, args?: object, options?: CallOptions): unknown;
  /**
   * Plans a tag cleanup, changing nothing: every tag listed and marked delete or keep with its
   * rule and reason. Patterns are regular expressions that match anywhere in the name.
   */
  planTagCleanup(
    namespace: string,
    repository: string,
    policy?: TagCleanupPolicy,
    options?: CallOptions,
  ): TagCleanupPlan;
  /**
   * Applies a plan from planTagCleanup: deletes what it marks delete, skipping tags pushed
   * again since; refuses a plan deleting more than maxDelete (default 100) tags.
   */
  applyTagCleanup(
    plan: TagCleanupPlan,
    limits?: { maxDelete?: number },
    options?: CallOptions,
  ): TagCleanupReport;
  /** Mints a fresh bearer (Hubs made by createHub from a username and token only). */
  refresh(): Promise<void>;
}

/** A tag cleanup's retention policy; at least one of keepLast, olderThan and matching. */
export interface TagCleanupPolicy {
  /** Keep this many of the newest tags (of those no other rule keeps). */
  keepLast?: number;
  /** Delete only tags last pushed before this instant, in unix seconds. */
  olderThan?: number | bigint;
  /** Only tags whose names match this regular expression are considered. */
  matching?: string;
  /** Tags whose names match this regular expression are never deleted. */
  keepMatching?: string;
}

/** What `applyTagCleanup` returns. */
export interface TagCleanupReport {
  namespace: string;
  repository: string;
  /** How many tags the plan deletes. */
  planned: number;
  deleted: string[];
  /** Already gone (404): counted as done. */
  already_gone: string[];
  /** Pushed again since the plan: left alone. */
  skipped: Array<{ tag: string; reason: string }>;
  failed: Array<{ tag: string; kind: string; status: number | null; message: string }>;
  /** Left after a failure that stops the apply (401, 403, denied). */
  not_attempted: string[];
}

/** What `planTagCleanup` returns. */
export interface TagCleanupPlan {
  namespace: string;
  repository: string;
  policy: {
    keep_last: number | null;
    older_than: string | null;
    matching: string | null;
    keep_matching: string | null;
  };
  /** Newest first. */
  tags: Array<{
    name: string;
    digest: string | null;
    last_pushed: string | null;
    action: 'delete' | 'keep';
    rule: string;
    reason: string;
  }>;
  totals: { tags: number; delete: number; keep: number };
}

export declare function exchangeToken(config: {
  baseUrl?: string;
  username: string;
  token: string;
  fetch?: typeof globalThis.fetch;
}): Promise<string>;

export declare function createHub(config?: CreateHubConfig): Promise<Hub>;
