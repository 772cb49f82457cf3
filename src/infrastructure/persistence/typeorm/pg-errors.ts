import { QueryFailedError } from 'typeorm';

const UNIQUE_VIOLATION = '23505';

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
