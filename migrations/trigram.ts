/**
 * A trigram GIN index, created only where pg_trgm is installed. The operator class is named through the schema
 * the extension lives in, which need not be on the migrating connection's search_path: a DBA may have put it in
 * `extensions` or `public` while the service's tables live in their own schema, and an unqualified
 * `gin_trgm_ops` would then not resolve.
 */
export function trigramIndexIfAvailable(name: string, table: string, expression: string, where?: string): string {
  const ddl = `CREATE INDEX IF NOT EXISTS ${name} ON ${table} USING gin (${expression} %I.gin_trgm_ops)${where ? ` WHERE ${where}` : ''}`;
  return `DO $$
    DECLARE trgm_schema text;
    BEGIN
      SELECT n.nspname INTO trgm_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
      IF trgm_schema IS NOT NULL THEN
        EXECUTE format(${quoteLiteral(ddl)}, trgm_schema);
      END IF;
    END $$`;
}

function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
