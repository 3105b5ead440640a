// Types of the wrapper. The component's own types come from jco's output in gen/ (written by
// `npm run transpile`).

import type { Root } from '../gen/dockhand.js';
import type { CallOptions, HubError as HubErrorPayload, Response } from '../gen/interfaces/dockhand-hub-types.js';
import type * as Catalog from '../gen/interfaces/dockhand-hub-catalog.js';

export type { CallOptions, Response, HubErrorPayload };
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

/** A typed area function with `options` optional and `baseUrl` filled in. */
type Wrapped<T> = {
  [K in keyof T]: T[K] extends (args: infer A, options: CallOptions) => Response
    ? (args: A, options?: CallOptions) => Response
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
    call(operation: string, args?: object | string, options?: CallOptions): Response;
  };
  readonly accessTokens: Wrapped<Root['accessTokens']>;
  readonly auditLogs: Wrapped<Root['auditLogs']>;
  readonly authentication: Wrapped<Root['authentication']>;
  readonly groups: Wrapped<Root['groups']>;
  readonly invites: Wrapped<Root['invites']>;
  readonly orgAccessTokens: Wrapped<Root['orgAccessTokens']>;
  readonly orgSettings: Wrapped<Root['orgSettings']>;
  readonly orgs: Wrapped<Root['orgs']>;
  readonly repositories: Wrapped<Root['repositories']>;
  readonly scim: Wrapped<Root['scim']>;
  /** Runs any operation by any of its names; returns the parsed JSON result. */
  call(operation: string, args?: object, options?: CallOptions): any;
  /** Mints a fresh bearer (Hubs made by createHub from a username and token only). */
  refresh(): Promise<void>;
}

export declare function exchangeToken(config: {
  baseUrl?: string;
  username: string;
  token: string;
  fetch?: typeof globalThis.fetch;
}): Promise<string>;

export declare function createHub(config?: CreateHubConfig): Promise<Hub>;
