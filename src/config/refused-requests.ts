import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { REFUSAL_STATUS, type RefusalReason, type RefusedRequest } from './http-server';

/** At most this many log lines about refused requests per window and process; the rest are counted only. */
export const REFUSAL_LOG_LINES_PER_WINDOW = 10;
export const REFUSAL_LOG_WINDOW_MS = 60_000;

/** `http_client_errors_total{status,reason}`: a fixed set of seven series, each there from the start at 0. */
export function createClientErrorCounter(registry: Registry): Counter<'status' | 'reason'> {
  const counter = new Counter({
    name: 'http_client_errors_total',
    help: 'Requests answered below the app (not in http_request_duration_seconds): malformed (400), header_overflow (431), timeout (408), missing_host (400), duplicate_header (400), bad_target (400), connect (405).',
    labelNames: ['status', 'reason'],
    registers: [registry],
  });
  for (const [reason, status] of Object.entries(REFUSAL_STATUS)) counter.inc({ status: String(status), reason }, 0);
  return counter;
}

/**
 * Counts every refused request and logs it at info with bounded fields (status, reason, Node's parser code, the
 * peer's address, the answer's request id; never a byte of the request), at most REFUSAL_LOG_LINES_PER_WINDOW
 * lines a minute: a flood of garbage costs the log one line more per minute, saying how many went unlogged
 * (the counter has them all).
 */
export function refusedRequestReporter(
  logger: Logger,
  counter: Counter<'status' | 'reason'>,
  options: { linesPerWindow?: number; windowMs?: number; now?: () => number } = {},
): (refusal: RefusedRequest) => void {
  const linesPerWindow = options.linesPerWindow ?? REFUSAL_LOG_LINES_PER_WINDOW;
  const windowMs = options.windowMs ?? REFUSAL_LOG_WINDOW_MS;
  const now = options.now ?? Date.now;
  let windowStart = now();
  let logged = 0;
  let unlogged = 0;
  return (refusal) => {
    counter.inc({ status: String(refusal.status), reason: refusal.reason satisfies RefusalReason });
    const at = now();
    if (at - windowStart >= windowMs) {
      if (unlogged > 0) logger.info({ unlogged, window_ms: windowMs }, 'requests refused before the app: more were not logged (see http_client_errors_total)');
      windowStart = at;
      logged = 0;
      unlogged = 0;
    }
    if (logged >= linesPerWindow) {
      unlogged += 1;
      return;
    }
    logged += 1;
    logger.info(
      { status: refusal.status, reason: refusal.reason, parser_error: refusal.parserCode, remote_address: refusal.remoteAddress, request_id: refusal.requestId },
      'request refused before the app',
    );
  };
}
