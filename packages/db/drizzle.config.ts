import { defineConfig } from 'drizzle-kit';

// `pnpm db:generate` writes reviewed SQL into the root migrations/ folder; the gateway
// applies the same files at start on Postgres and on PGlite.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema/index.ts',
  out: '../../migrations',
});
