import { getTableColumns, type Table } from 'drizzle-orm';

/**
 * A row as the admin API shows it: SQL column names (LiteLLM's snake_case), `numeric` money as
 * JSON numbers, instants as ISO-8601 strings. Money stays exact in the database; JSON numbers
 * are what LiteLLM clients expect.
 */
export function rowToJson(table: Table, row: Record<string, unknown>): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(getTableColumns(table))) {
    const value = row[field];
    if (value === undefined) continue;
    if (value instanceof Date) json[column.name] = value.toISOString();
    else if (column.columnType === 'PgNumeric' && typeof value === 'string')
      json[column.name] = Number(value);
    else json[column.name] = value;
  }
  return json;
}

/** {@link rowToJson} for a row read with raw SQL, whose fields carry the SQL column names. */
export function sqlRowToJson(table: Table, row: Record<string, unknown>): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const column of Object.values(getTableColumns(table))) {
    const value = row[column.name];
    if (value === undefined) continue;
    if (value instanceof Date) json[column.name] = value.toISOString();
    else if (column.columnType === 'PgNumeric' && typeof value === 'string')
      json[column.name] = Number(value);
    else json[column.name] = value;
  }
  return json;
}
