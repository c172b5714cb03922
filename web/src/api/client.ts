// The typed API client: openapi-fetch over the types generated from functions/api/openapi.json
// (src/api/schema.d.ts, `npm run gen:api`), with the signed-in token as bearer and every
// failure — HTTP error, network error, unparsable body — turned into one ApiError.
import createClient from 'openapi-fetch';
import type { components, paths } from './schema';
import { session, signOut } from '../session';

export type Schemas = components['schemas'];
export type Spec = Schemas['Spec'];
export type ChartSpec = Schemas['ChartSpec'];
export type Customization = Schemas['Customization'];
export type ChartCustomization = Schemas['ChartCustomization'];
export type Build = Schemas['Build'];
export type Repository = Schemas['Repository'];
export type CatalogTag = Schemas['CatalogTag'];
export type Mirror = Schemas['Mirror'];
export type Sync = Schemas['Sync'];
export type Detail = Schemas['Detail'];
export type FileEntry = Schemas['FileEntry'];

/** An answer other than success: the API's `{error: {code, message, details}}`, or one made
 * here for a network failure (status 0) or a body that is not the API's error shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Detail[] = [],
    readonly etag: string | null = null,
    /** `Retry-After` in seconds (a listing being read answers 404 `not_indexed` with it). */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

/** `{name}` may hold `/` (`team/app`): each segment is encoded, the slashes kept. */
function pathSerializer(pathname: string, params: Record<string, unknown>): string {
  return pathname.replace(/\{([^}]+)\}/g, (whole, key: string) => {
    const v = params[key];
    if (v === undefined || v === null) return whole;
    const s = String(v);
    return key === 'name' ? s.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(s);
  });
}

export const api = createClient<paths>({ baseUrl: '', pathSerializer });

api.use({
  onRequest({ request }) {
    const t = session.value?.token;
    if (t && !request.headers.has('Authorization')) request.headers.set('Authorization', `Bearer ${t}`);
    return request;
  },
});

function toError(status: number, body: unknown, response?: Response): ApiError {
  const etag = response?.headers.get('etag') ?? null;
  const after = response?.headers.get('retry-after')?.trim();
  const retryAfter = after && /^\d+$/.test(after) ? Number(after) : null;
  const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (e && typeof e.code === 'string' && typeof e.message === 'string') {
    const details = Array.isArray(e.details) ? (e.details as Detail[]) : [];
    return new ApiError(status, e.code, e.message, details, etag, retryAfter);
  }
  const text = typeof body === 'string' && body.trim() ? `: ${body.trim().slice(0, 300)}` : '';
  return new ApiError(status, 'http_' + status, `The server answered ${status}${text}`, [], etag, retryAfter);
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** The data of a successful answer; throws ApiError otherwise. A 401 ends the session. */
export async function ok<T>(call: Promise<Answer<T>>): Promise<T> {
  let r: Answer<T>;
  try {
    r = await call;
  } catch (e) {
    throw new ApiError(0, 'network', `The API could not be reached (${e instanceof Error ? e.message : String(e)}). Check the connection and try again.`);
  }
  if (r.response.ok) return r.data as T;
  const err = toError(r.response.status, r.error, r.response);
  if (err.status === 401 && session.value) signOut('Your token was not accepted any more: sign in again.');
  throw err;
}

/** A message for anything caught. */
export function describe(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 403) return `Not allowed: ${e.message}`;
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}
