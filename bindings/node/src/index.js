// The dockhand component on Node.js: jco's transpiled output (gen/), instantiated synchronously
// with preview2-shim for WASI, a `dockhand:hub/credentials` import written here, and the shim's
// outgoing HTTP handler behind an allow-list of the base URL's origin.
//
// Everything the component imports is synchronous (Node 20 has no JSPI): the shim's HTTP client
// blocks the calling thread until the answer arrives, and the credentials import answers from
// memory. Minting a bearer from a personal access token is asynchronous (fetch), so it happens in
// `createHub` / `hub.refresh()`, before calls, never inside one.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { http as shimHttp } from '@bytecodealliance/preview2-shim';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';

export const DEFAULT_BASE_URL = 'https://hub.docker.com';

const GEN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'gen');
const WIT_VERSION = '0.4.0';

// The transpiled component, loaded once per process. A missing gen/ is a setup error with a hint.
let generated;
function loadGenerated() {
  if (!generated) {
    throw new Error(
      `the transpiled component is missing (${join(GEN_DIR, 'dockhand.js')}); ` +
        'build the component and run `npm run transpile` in bindings/node',
    );
  }
  return generated;
}
if (existsSync(join(GEN_DIR, 'dockhand.js'))) {
  generated = await import(pathToFileURL(join(GEN_DIR, 'dockhand.js')).href);
}

// Core modules are compiled once per process; every instance after that is cheap.
const coreModules = new Map();
function getCoreModule(name) {
  let module = coreModules.get(name);
  if (!module) {
    module = new WebAssembly.Module(readFileSync(join(GEN_DIR, name)));
    coreModules.set(name, module);
  }
  return module;
}

/** A typed `hub-error` from the component: `kind` is the case, `detail` its payload. */
export class HubError extends Error {
  constructor(payload, options) {
    super(describeError(payload), options);
    this.name = 'HubError';
    /** The case of `hub-error` (`not-found`, `denied`, `invalid-argument`, ...). */
    this.kind = payload.tag;
    /** The case's payload: a string, or a record such as `{ name, reason }`. */
    this.detail = payload.val;
    /** The error exactly as jco lifted it: `{ tag, val }`. */
    this.payload = payload;
  }
}

function describeError(payload) {
  const val = payload.val;
  if (val === undefined) return payload.tag;
  const text = typeof val === 'string' ? val : jsonText(val);
  return `${payload.tag}: ${text}`;
}

// JSON text that tolerates BigInt (jco maps s64/u64 to BigInt).
function jsonText(value) {
  return JSON.stringify(value, (_key, v) =>
    typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v,
  );
}

/**
 * The result a response carries, as `Hub.call` returns it: the body parsed, `null` for an empty
 * body. A typed function's response is typed with its operation's result, and so is this.
 */
export function parseResult(response) {
  return response.body === '' ? null : JSON.parse(response.body);
}

/** `scheme://host:port` with the default port made explicit, lowercase host. */
function originOf(scheme, authority) {
  const s = scheme.toLowerCase();
  const url = new URL(`${s}://${authority}`);
  const port = url.port || (s === 'https' ? '443' : s === 'http' ? '80' : '');
  return `${s}://${url.hostname.toLowerCase()}:${port}`;
}

function originOfUrl(text) {
  const url = new URL(text);
  return originOf(url.protocol.replace(/:$/, ''), url.host);
}

function schemeName(scheme) {
  if (!scheme) return 'https'; // wasi-http's default when the guest sets none
  if (scheme.tag === 'HTTP') return 'http';
  if (scheme.tag === 'HTTPS') return 'https';
  return String(scheme.val);
}

/** The Hub's root URL: no trailing slash, no trailing `/v2`. */
function hubRoot(baseUrl) {
  return baseUrl.replace(/\/+$/, '').replace(/\/v2$/, '');
}

/**
 * Exchanges a username (or organization) and a personal access token, organization access token
 * or password for a short-lived bearer with `POST /v2/auth/token`.
 */
export async function exchangeToken({ baseUrl = DEFAULT_BASE_URL, username, token, fetch = globalThis.fetch }) {
  if (!username || !token) throw new TypeError('exchangeToken needs username and token');
  const url = `${hubRoot(baseUrl)}/v2/auth/token`;
  let res;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ identifier: username, secret: token }),
    });
  } catch (e) {
    throw new HubError({ tag: 'transport', val: { kind: 'other', message: `token exchange failed: ${e.message}` } }, { cause: e });
  }
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    // Never echo what was sent; the Hub's message names no secret.
    const message = body?.message ?? body?.detail ?? `HTTP ${res.status}`;
    const tag = res.status === 401 ? 'unauthorized' : res.status === 403 ? 'forbidden' : 'upstream';
    const val = tag === 'upstream' ? { status: res.status, message } : `token exchange: ${message}`;
    throw new HubError({ tag, val });
  }
  const bearer = body?.access_token ?? body?.token;
  if (typeof bearer !== 'string' || !bearer) {
    throw new HubError({ tag: 'decode', val: 'token exchange: no access_token in the answer' });
  }
  return bearer;
}

// The error value of an import's `result<_, E>`: jco lowers a thrown object's `payload` property
// (or a thrown non-Error value itself) as `err(E)`; any other thrown Error traps.
function importError(payload, message = String(payload)) {
  return Object.assign(new Error(message), { payload });
}

function toCredential(value) {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return { token: value };
  if (typeof value === 'object' && typeof value.token === 'string') return { token: value.token };
  throw new TypeError('a credential must be a string, { token }, null or undefined');
}

/**
 * The component, instantiated for one Hub origin with one set of credentials. Calls are
 * synchronous and block the thread until the Hub answers.
 */
export class Hub {
  #root = null;
  #shim;
  #accounts;
  #callback;
  #onInvalidate;
  #stale = new Set();
  #allowed;
  #refresh;

  /**
   * @param {object} [config]
   * @param {string} [config.baseUrl] the Hub (default https://hub.docker.com); its origin is the
   *   only one requests may go to, besides `allowedOrigins`
   * @param {string} [config.bearer] a ready bearer for account `default`
   * @param {string} [config.scimToken] the SCIM bearer for account `default`
   * @param {Record<string, {bearer?: string, scimToken?: string}>} [config.accounts] named accounts
   * @param {(account: string, kind: 'hub'|'scim') => string|{token: string}|null|undefined} [config.credentials]
   *   answers `credentials.get` instead (synchronously); `null`/`undefined` means anonymous
   * @param {(account: string, kind: 'hub'|'scim') => void} [config.onInvalidate] told when the
   *   Hub rejected a credential with 401
   * @param {string[]} [config.allowedOrigins] further origins (`https://host[:port]`) to allow
   * @param {Record<string, string|undefined>|false} [config.env] where to read DOCKHAND_BEARER /
   *   DOCKHAND_SCIM_TOKEN when no credential is given (default `process.env`; `false`: nowhere)
   */
  constructor(config = {}) {
    const { baseUrl = DEFAULT_BASE_URL, allowedOrigins = [] } = config;
    this.baseUrl = hubRoot(baseUrl);
    this.#allowed = new Set([originOfUrl(this.baseUrl), ...allowedOrigins.map(originOfUrl)]);
    this.#callback = config.credentials;
    this.#onInvalidate = config.onInvalidate;
    this.#refresh = config.refresh;
    const env = config.env === undefined ? process.env : config.env || {};
    const given = config.bearer !== undefined || config.scimToken !== undefined || config.accounts !== undefined;
    this.#accounts = new Map(Object.entries(config.accounts ?? {}));
    this.#accounts.set('default', {
      bearer: given ? config.bearer : env.DOCKHAND_BEARER || undefined,
      scimToken: given ? config.scimToken : env.DOCKHAND_SCIM_TOKEN || undefined,
      ...this.#accounts.get('default'),
    });
    /** Requests the allow-list refused, newest last: `{ origin, method, path }`. */
    this.denied = [];
    this.#shim = new WASIShim({
      // The component sees no environment variables and no arguments of this process.
      sandbox: { env: {}, args: ['dockhand'] },
      http: { ...shimHttp, outgoingHandler: this.#guardedOutgoingHandler(shimHttp.outgoingHandler) },
    });

    const areas = {};
    for (const [area, fns] of Object.entries(this.exports)) {
      if (area.includes(':') || area === 'types') continue;
      areas[area] = {};
      for (const [name, fn] of Object.entries(fns)) {
        if (typeof fn !== 'function') continue;
        // An operation without arguments exports `func(options)`: its one parameter is the
        // options, so the wrapper takes them first.
        areas[area][name] =
          area === 'catalog'
            ? this.#catalogWrapper(name)
            : fn.length < 2
              ? (options) => this.#invoke(area, name, [this.#options(options)])
              : (args, options) => this.#invoke(area, name, [args, this.#options(options)]);
      }
    }
    /** `operations()`, `docs(topic)` and `call(operation, args, options)` (args: object or JSON). */
    this.catalog = areas.catalog;
    for (const [area, fns] of Object.entries(areas)) {
      if (area !== 'catalog') this[area] = fns;
    }
  }

  /**
   * The component's exports exactly as jco generated them (`repositories.getRepository(args,
   * options)`, ...). Errors arrive as jco's ComponentError with the `hub-error` in `.payload`, and
   * `options.baseUrl` is not filled in.
   */
  get exports() {
    if (!this.#root) this.#root = this.#instantiate();
    return this.#root;
  }

  /** Runs any operation by any of its names and returns the parsed JSON result. */
  call(operation, args = {}, options = {}) {
    return parseResult(this.catalog.call(operation, args, options));
  }

  /**
   * Plans a tag cleanup, changing nothing: every tag of the repository is listed and marked
   * delete or keep with its rule and reason (the component's `plan-tag-cleanup`). `policy`:
   * `{ keepLast, olderThan (unix seconds), matching, keepMatching }` (regular expressions
   * that match anywhere in the name: `^pr-`). Returns the plan:
   * `{ namespace, repository, policy, tags, totals }`.
   */
  planTagCleanup(namespace, repository, policy = {}, options = {}) {
    return parseResult(this.catalog.planTagCleanup(namespace, repository, policy, options));
  }

  /**
   * Applies a plan from `planTagCleanup` (the component's `apply-tag-cleanup`): deletes each tag
   * it marks delete, skipping one pushed again since the plan; one already gone counts as done.
   * Refuses a plan deleting more than `maxDelete` (default 100) tags before deleting any.
   * Returns the report: `{ planned, deleted, already_gone, skipped, failed, not_attempted }`.
   */
  applyTagCleanup(plan, { maxDelete = 100 } = {}, options = {}) {
    return parseResult(this.catalog.applyTagCleanup(plan, maxDelete, options));
  }

  /** Mints fresh bearers (only for a Hub made by `createHub` from a username and token). */
  async refresh() {
    if (!this.#refresh) throw new Error('this Hub was not created from a username and token');
    const bearer = await this.#refresh();
    this.#accounts.set('default', { ...this.#accounts.get('default'), bearer });
    this.#stale.clear();
  }

  #instantiate() {
    const wasi = this.#shim.getImportObject();
    const credentials = {
      get: (account, kind) => this.#getCredential(account, kind),
      invalidate: (account, kind) => this.#invalidate(account, kind),
    };
    // jco 1.35 with --instantiation: the .d.ts names imports with their version
    // (`dockhand:hub/credentials@0.4.0`) but the generated JavaScript reads them without it.
    // Both spellings are given so that either reading works.
    const imports = { ...wasi, 'dockhand:hub/credentials': credentials };
    for (const [key, value] of Object.entries(wasi)) imports[`${key}@0.2.12`] = value;
    imports[`dockhand:hub/credentials@${WIT_VERSION}`] = credentials;
    return loadGenerated().instantiate(getCoreModule, imports);
  }

  #invoke(area, name, args) {
    const root = this.exports;
    try {
      return root[area][name](...args);
    } catch (e) {
      if (e && Object.hasOwn(e, 'payload') && typeof e.payload?.tag === 'string') {
        throw new HubError(e.payload, { cause: e });
      }
      // A trap (or a bug in an import) may leave the instance broken: use a fresh one next time.
      this.#root = null;
      throw e;
    }
  }

  #catalogWrapper(name) {
    if (name === 'call') {
      return (operation, args = {}, options) =>
        this.#invoke('catalog', 'call', [
          operation,
          typeof args === 'string' ? args : jsonText(args),
          this.#options(options),
        ]);
    }
    if (name === 'planTagCleanup') {
      // policy: { keepLast, olderThan (unix seconds), matching, keepMatching }, all optional.
      return (namespace, repository, policy = {}, options) => {
        const { olderThan, ...rest } = policy;
        const record = { ...rest, olderThan: olderThan == null ? undefined : BigInt(olderThan) };
        return this.#invoke('catalog', 'planTagCleanup', [
          namespace,
          repository,
          record,
          this.#options(options),
        ]);
      };
    }
    if (name === 'applyTagCleanup') {
      return (plan, maxDelete = 100, options) =>
        this.#invoke('catalog', 'applyTagCleanup', [
          typeof plan === 'string' ? plan : jsonText(plan),
          maxDelete,
          this.#options(options),
        ]);
    }
    return (...args) => this.#invoke('catalog', name, args);
  }

  #options(options = {}) {
    const merged = { baseUrl: this.baseUrl };
    for (const [key, value] of Object.entries(options)) {
      if (value !== undefined) merged[key] = value;
    }
    return merged;
  }

  #getCredential(account, kind) {
    const key = `${account}\u0000${kind}`;
    if (this.#stale.has(key)) {
      throw importError(
        `the Hub rejected the ${kind} credential of account \`${account}\` (401); ` +
          (this.#refresh ? 'mint a new one with `await hub.refresh()`' : 'supply a new one'),
      );
    }
    try {
      if (this.#callback) {
        const value = this.#callback(account, kind);
        if (value && typeof value.then === 'function') {
          throw new TypeError('the credentials callback must answer synchronously (Node 20 has no JSPI)');
        }
        return toCredential(value);
      }
      const entry = this.#accounts.get(account);
      if (!entry) throw new Error(`no account named \`${account}\` is configured`);
      return toCredential(kind === 'scim' ? entry.scimToken : entry.bearer);
    } catch (e) {
      // err(string): the component reports `unauthorized` and sends nothing.
      throw importError(e.message);
    }
  }

  #invalidate(account, kind) {
    if (this.#onInvalidate) {
      try {
        this.#onInvalidate(account, kind);
      } catch {
        // A listener's failure must not trap the component.
      }
      return;
    }
    this.#stale.add(`${account}\u0000${kind}`);
  }

  #guardedOutgoingHandler(inner) {
    return {
      handle: (request, options) => {
        const authority = request.authority();
        let origin;
        try {
          origin = authority ? originOf(schemeName(request.scheme()), authority) : undefined;
        } catch {
          origin = undefined;
        }
        if (!origin || !this.#allowed.has(origin)) {
          const method = request.method();
          this.denied.push({
            origin: origin ?? `${schemeName(request.scheme())}://${authority ?? ''}`,
            method: method.tag === 'other' ? method.val : method.tag.toUpperCase(),
            path: request.pathWithQuery() ?? '',
          });
          // wasi:http's error-code `HTTP-request-denied`; the component maps it to `denied`.
          throw { tag: 'HTTP-request-denied' };
        }
        return inner.handle(request, options);
      },
    };
  }
}

/**
 * Makes a Hub. With `username` and `token` (a personal access token, organization access token or
 * password; or DOCKHAND_USERNAME / DOCKHAND_TOKEN from `env`) it first exchanges them for a
 * short-lived bearer with fetch, which the synchronous `credentials` import then hands out. The
 * secret itself never reaches the component.
 */
export async function createHub(config = {}) {
  const env = config.env === undefined ? process.env : config.env || {};
  const explicit =
    config.bearer !== undefined || config.credentials !== undefined || config.accounts !== undefined;
  const username = config.username ?? (explicit ? undefined : env.DOCKHAND_USERNAME);
  const token = config.token ?? (explicit ? undefined : env.DOCKHAND_TOKEN);
  if (!username || !token) {
    if (config.username || config.token) throw new TypeError('createHub needs both username and token');
    return new Hub(config);
  }
  const baseUrl = config.baseUrl ?? DEFAULT_BASE_URL;
  const mint = () => exchangeToken({ baseUrl, username, token, fetch: config.fetch });
  const bearer = await mint();
  const { username: _u, token: _t, fetch: _f, ...rest } = config;
  return new Hub({ ...rest, baseUrl, bearer, scimToken: config.scimToken ?? env.DOCKHAND_SCIM_TOKEN, refresh: mint });
}
