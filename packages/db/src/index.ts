export {
  type Database,
  type DatabaseHandle,
  type DatabaseOptions,
  defaultMigrationsFolder,
  type MigrationStatus,
  openDatabase,
  type Schema,
} from './client.ts';
export * from './queries/budget-reset.ts';
export * from './queries/cache-invalidations.ts';
export * from './queries/end-users.ts';
export * from './queries/keys.ts';
export * from './queries/reconcile.ts';
export * from './queries/retention.ts';
export * from './queries/spend.ts';
export * from './queries/spend-logs.ts';
export * from './queries/spend-partitions.ts';
export * from './queries/spend-reports.ts';
export * from './queries/tags.ts';
export * from './queries/teams.ts';
export * from './queries/users.ts';
export { rowToJson, sqlRowToJson } from './row-json.ts';
export * from './schema/index.ts';
