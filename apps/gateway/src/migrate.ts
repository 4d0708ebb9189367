import { openDatabase } from '@gateway/db';
import { ConfigError } from './config/config-file.ts';
import { loadGatewayConfig } from './config/gateway-config.ts';

// `pnpm migrate`: applies the committed migrations to the configured database and exits.
try {
  const config = loadGatewayConfig(process.env, process.argv.slice(2));
  const database = await openDatabase(
    config.database.kind === 'postgres'
      ? { kind: 'postgres', url: config.database.url }
      : { kind: 'pglite', dataDir: config.database.dataDir },
  );
  await database.migrate();
  await database.close();
  console.log(`migrations applied (${config.database.kind})`);
} catch (error) {
  console.error(error instanceof ConfigError ? `Configuration error: ${error.message}` : error);
  process.exit(1);
}
