import { ServiceError } from './errors.js';
import { isRetryableStatus } from './retry.js';
import { checkFunction, checkOptions, describe, fail, invalid, named, optionNames } from '../core/validate.js';
import type { CallContext } from './options.js';
import type { ItemFailure } from './item-failed.js';

export interface PostJsonOptions<In, R> {
  /**
   * Request headers, e.g. `{ authorization: 'Bearer …' }`. They are sent, never copied into
   * errors; values of credential-like headers are also blanked out of quoted response text.
   */
  headers?: Record<string, string>;
  /**
   * The request body for a batch (JSON-encoded).
   * @default the rows themselves: a JSON array
   */
  body?: (rows: In[]) => unknown;
  /**
   * The results within the response body, one per row; `itemFailed(reason, { status })`
   * in a row's place when the service reports that row failed (only those rows are sent
   * again, as retries).
   * @default the body if it is an array, else its `results` field
   */
  results?: (body: unknown, rows: In[]) => readonly (R | ItemFailure)[];
  /**
   * The header that carries the batch's idempotency key (the same for every retry of a
   * batch); `false` to send none.
   * @default 'Idempotency-Key'
   */
  idempotencyHeader?: string | false;
  /**
   * The fetch to use.
   * @default Node's global fetch
   */
  fetch?: typeof fetch;
}

/** The option names postJson() accepts (an unknown one is a TypeError). */
const POST_JSON_OPTIONS = optionNames<PostJsonOptions<unknown, unknown>>('postJson()', { headers: true, body: true, results: true, idempotencyHeader: true, fetch: true });

/** Headers whose values are credentials: never quoted, even if a server echoes them. */
const SECRET_HEADER = /authorization|cookie|token|secret|key|password|signature/i;

/** The URL as errors may show it: no user name or password, no query string (API keys live there). */
function safeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search ? '?…' : ''}`;
}

function defaultResults(body: unknown): readonly unknown[] {
  if (Array.isArray(body)) return body;
  const results = typeof body === 'object' && body !== null ? (body as { results?: unknown }).results : undefined;
  if (Array.isArray(results)) return results;
  throw new ServiceError('the response is neither an array nor an object with a `results` array', { kind: 'response', retryable: false });
}

/**
 * A service function for `callService` that POSTs each batch as JSON with Node's built-in
 * fetch and returns the results from the JSON answer. HTTP 408, 425, 429 and 5xx (but
 * 501/505) and network failures become retryable `ServiceError`s carrying `Retry-After`;
 * other 4xx are permanent (the batch is not retried: its rows fail or are rejected).
 * Error messages name the method, the URL without credentials or query, the status and
 * a short excerpt of the answer — never the request headers. A 2xx answer that reports
 * some rows as failed (a bulk API's per-item errors) is mapped by `results` to
 * `itemFailed` markers.
 *
 * @example
 * callService(postJson('https://geo.example/v1/batch', {
 *   headers: { authorization: `Bearer ${process.env.GEO_TOKEN}` },
 *   body: (rows) => ({ addresses: rows.map((r) => r.address) }),
 * }), { batchSize: 1_000, concurrency: 4, merge: (row, geo) => ({ ...row, ...geo }) })
 */
export function postJson<In = unknown, R = unknown>(url: string | URL, options: PostJsonOptions<In, R> = {}): (rows: In[], context: CallContext) => Promise<readonly (R | ItemFailure)[]> {
  return named('postJson()', () => checkedPostJson(url, options));
}

/** postJson() once its arguments are known, checking its options as it goes. */
function checkedPostJson<In, R>(url: string | URL, options: PostJsonOptions<In, R>): (rows: In[], context: CallContext) => Promise<readonly (R | ItemFailure)[]> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    // The URL itself may hold a key: the message does not echo it.
    throw invalid(`Expected \`url\` to be an absolute URL, got ${typeof url === 'string' ? 'a string that is not one' : describe(url)}`);
  }
  const o = checkOptions('options', options, POST_JSON_OPTIONS) as PostJsonOptions<In, R>;
  const headers = { ...(checkOptions('headers', o.headers) as Record<string, string>) };
  const toBody = o.body === undefined ? (rows: In[]) => rows : checkFunction<(rows: In[]) => unknown>('body', o.body);
  type ToResults = (body: unknown, rows: In[]) => readonly (R | ItemFailure)[];
  const toResults = o.results === undefined ? (defaultResults as ToResults) : checkFunction<ToResults>('results', o.results);
  const keyHeader = o.idempotencyHeader === undefined ? 'Idempotency-Key' : o.idempotencyHeader;
  if (keyHeader !== false && (typeof keyHeader !== 'string' || keyHeader === '')) fail('idempotencyHeader', 'a header name or false', keyHeader);
  const doFetch = o.fetch === undefined ? fetch : checkFunction<typeof fetch>('fetch', o.fetch);
  const secrets = Object.entries(headers).filter(([name, value]) => SECRET_HEADER.test(name) && typeof value === 'string' && value.length >= 4).map(([, value]) => value);
  for (const [, value] of target.searchParams) if (value.length >= 4) secrets.push(value);
  if (target.password) secrets.push(decodeURIComponent(target.password));
  const where = `POST ${safeUrl(target)}`;
  const redact = (text: string) => secrets.reduce((t, secret) => t.split(secret).join('[redacted]'), text);

  return async function postJson(rows: In[], { signal, key }: CallContext): Promise<readonly (R | ItemFailure)[]> {
    const requestHeaders: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...headers };
    if (keyHeader !== false) requestHeaders[keyHeader] = key;
    let response: Response;
    try {
      response = await doFetch(target, { method: 'POST', headers: requestHeaders, body: JSON.stringify(toBody(rows)), signal });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw networkError(where, error);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw networkError(where, error);
    }
    if (!response.ok) {
      const excerpt = redact(text.replace(/\s+/g, ' ').trim()).slice(0, 200);
      const retryAfter = response.headers.get('retry-after') ?? undefined;
      throw new ServiceError(`${where} → ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${excerpt ? `: ${excerpt}` : ''}`, {
        kind: 'status', status: response.status, retryable: isRetryableStatus(response.status), retryAfter,
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ServiceError(`${where} → ${response.status}, but the answer is not JSON`, { kind: 'response', retryable: false });
    }
    return toResults(body, rows);
  };
}

/** fetch's "fetch failed" names the real failure in its cause (ECONNRESET, UND_ERR_SOCKET, …). */
function networkError(where: string, error: unknown): ServiceError {
  let detail = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? (error.cause as { message?: string; code?: string } | undefined) : undefined;
  if (cause && typeof cause === 'object') detail = `${cause.message ?? detail}${cause.code ? ` (${cause.code})` : ''}`;
  // Retryable: the request may or may not have reached the service; the idempotency key makes repeating it safe.
  return new ServiceError(`${where} failed: ${detail}`, { kind: 'network', retryable: true, cause: error });
}
