// The page's only way to the server: the client generated from
// api/openapi.yaml (openapi-typescript + openapi-fetch), so a change to
// the contract that the page does not follow fails the type check. It
// uses the public API with the same headers as any other client.
import createClient from "openapi-fetch";
import type { components, paths } from "../api/schema";

export type Schemas = components["schemas"];
export type License = Schemas["CustomerUserLicense"];
export type ErrorBody = Schemas["ErrorResponse"];

/** Who is signed in: kept in memory (or in this tab's sessionStorage). */
export interface Session {
  tenant: string;
  token: string;
}

/** An answer other than 2xx, or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | undefined,
    /** The correlation id the server logged and audited the request under. */
    readonly correlationId: string,
    message: string,
  ) {
    super(message);
  }
}

/** A v4 uuid; crypto.randomUUID exists only in secure contexts. */
export function newCorrelationId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export type Client = ReturnType<typeof createClient<paths>>;

/**
 * A client for the API under `root` (the server's address; the page lives
 * at root/ui/). The token is added by a middleware because it is the
 * security scheme, not a parameter; X-Tenant and X-Correlation-Id are
 * parameters of every operation and are passed per call (see headers()).
 */
export function makeClient(root: string, session: Session): Client {
  const client = createClient<paths>({ baseUrl: root });
  client.use({
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${session.token}`);
      return request;
    },
  });
  return client;
}

/** The header parameters every operation takes, with a fresh correlation id. */
export function headers(session: Session): { "X-Tenant": string; "X-Correlation-Id": string } {
  return { "X-Tenant": session.tenant, "X-Correlation-Id": newCorrelationId() };
}

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * Runs one call and returns its data, or throws an ApiError that always
 * carries a correlation id: the body's, else the response header's, else
 * the one the request was sent with (for a request that got no answer).
 */
export async function call<T>(sent: { "X-Correlation-Id": string }, run: () => Promise<Result<T>>): Promise<T> {
  let res: Result<T>;
  try {
    res = await run();
  } catch {
    throw new ApiError(0, undefined, sent["X-Correlation-Id"], "The server could not be reached.");
  }
  const id = res.response.headers.get("X-Correlation-Id") ?? sent["X-Correlation-Id"];
  if (res.response.ok && res.error === undefined) return res.data as T;
  const body = isErrorBody(res.error) ? res.error : undefined;
  const message = body?.description ?? `The server answered ${res.response.status} ${res.response.statusText}.`;
  throw new ApiError(res.response.status, body, body?.correlationId ?? id, message);
}

function isErrorBody(v: unknown): v is ErrorBody {
  return typeof v === "object" && v !== null && typeof (v as ErrorBody).statusCode === "number";
}

/** The claims the page shows and uses to pre-fill the tenant; never trusted for access (the server decides). */
export interface Claims {
  sub?: string;
  tenant?: string;
  roles?: string[];
  resellerId?: string;
  exp?: number;
}

/** Reads a JWT's payload without verifying it (only the server can). */
export function readClaims(token: string): Claims | undefined {
  const part = token.trim().split(".")[1];
  if (!part) return undefined;
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
    const text = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null ? (v as Claims) : undefined;
  } catch {
    return undefined;
  }
}
