/** Where a request came from; stored on sessions and in the audit trail. */
export interface ClientContext {
  ip: string | null;
  userAgent: string | null;
  /** The request id of the HTTP call (or job) that acted, for the audit trail. */
  requestId?: string | null;
}
