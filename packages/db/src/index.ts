export {
  type Database,
  type DatabaseHandle,
  type DatabaseOptions,
  defaultMigrationsFolder,
  openDatabase,
  type Schema,
} from './client.ts';
export { findKeyByHash, insertKey } from './queries/keys.ts';
export { listSpendLogsForKey, writeSpendBatch } from './queries/spend.ts';
export * from './schema/index.ts';
