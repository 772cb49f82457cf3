/** Where a request came from; stored on sessions and in the audit trail. */
export interface ClientContext {
  ip: string | null;
  userAgent: string | null;
  /** The request id of the HTTP call (or job) that acted, for the audit trail. */
  requestId?: string | null;
}

/** For work not started by a request (jobs, tests): nothing known about the caller. */
export const UNKNOWN_CLIENT: ClientContext = { ip: null, userAgent: null, requestId: null };
