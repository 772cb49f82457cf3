/** Where a request came from; stored on sessions and in the audit trail. */
export interface ClientContext {
  ip: string | null;
  userAgent: string | null;
}
