/** Where a request came from; stored on sessions and in the audit trail. */
export interface ClientContext {
  ip: string | null;
  userAgent: string | null;
  /** The request id of the HTTP call (or job) that acted, for the audit trail. */
  requestId?: string | null;
  /**
   * Aborted when the caller is gone (the HTTP client closed the connection before its answer). Passed to the
   * password hasher, which then skips a hash not yet started; never stored. Absent for jobs and the CLI.
   */
  signal?: AbortSignal;
}

/** For work not started by a request (jobs, tests): nothing known about the caller. */
export const UNKNOWN_CLIENT: ClientContext = { ip: null, userAgent: null, requestId: null };
