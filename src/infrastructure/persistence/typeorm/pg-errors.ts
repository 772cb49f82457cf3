import { QueryFailedError } from 'typeorm';

const UNIQUE_VIOLATION = '23505';
const QUERY_CANCELED = '57014';

interface PgDriverError {
  code?: unknown;
  constraint?: unknown;
}

/** The name of the unique constraint a failed query violated, or null if it failed for another reason. */
export function violatedUniqueConstraint(error: unknown): string | null {
  if (!(error instanceof QueryFailedError)) return null;
  const driverError = error.driverError as PgDriverError;
  if (driverError.code !== UNIQUE_VIOLATION) return null;
  return typeof driverError.constraint === 'string' ? driverError.constraint : '';
}

/**
 * The server cancelled the statement (SQLSTATE 57014 query_canceled: a cancel request, as the query deadline sends,
 * or a statement_timeout), so it was not carried out. The pg driver's error, or TypeORM's around it.
 */
export function wasQueryCanceled(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const driverError = error instanceof QueryFailedError ? (error.driverError as PgDriverError) : (error as PgDriverError);
  return driverError.code === QUERY_CANCELED;
}
