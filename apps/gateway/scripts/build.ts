// The production build: the gateway as ES module bundles in `dist/` (main.js, migrate.js, and
// chunks for what is loaded lazily) with the migrations and Lua scripts copied beside them, run by plain
// `node`. Running the sources through tsx costs a loader thread and a second copy of every
// module (idle RSS 164 MB through tsx, 109 MB from the bundle); `pnpm start` still does that,
// for a quick start.
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const gatewayDir = fileURLToPath(new URL('..', import.meta.url));
const migrationsDir = fileURLToPath(new URL('../../../migrations', import.meta.url));

/**
 * The node flags production runs the bundle with (`pnpm start:prod`, the Dockerfile's CMD).
 * `--heap-growing-percent=50`: V8 collects the old generation before it grows past 1.5 times
 * what survived the last collection, instead of up to 4 times: about 100 MB less peak memory
 * under load at the same CPU per request (bench/RESULTS.md). It bounds slack, not the heap.
 */
export const PRODUCTION_NODE_FLAGS = ['--heap-growing-percent=50'];

/** The bundles built, by output name (`dist/<name>.js`): the server and the migration command. */
export const ENTRY_POINTS = { main: 'src/main.ts', migrate: 'src/migrate.ts' } as const;

/** Builds into `outdir` (emptied first). */
export async function buildGateway(outdir: string): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: Object.fromEntries(
      Object.entries(ENTRY_POINTS).map(([name, source]) => [name, `${gatewayDir}${source}`]),
    ),
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.18',
    // Left to Node at run time: PGlite and Swagger UI read asset files that sit next to their
    // modules, and pg's optional native binding is not installed.
    external: ['@electric-sql/pglite', 'swagger-ui-dist', 'pg-native'],
    define: { BUNDLED_MIGRATIONS_DIR: JSON.stringify('./migrations/') },
    sourcemap: true,
    logLevel: 'warning',
    // CommonJS dependencies call require(), which an ES module has to be given.
    banner: {
      js: "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);",
    },
  });
  cpSync(migrationsDir, `${outdir}/migrations`, { recursive: true });
  // The admission ledger's Lua scripts, read at start from beside the bundle.
  cpSync(`${gatewayDir}src/admission/lua`, `${outdir}/lua`, { recursive: true });
}

/**
 * Builds into a new folder of its own, for tests and the benchmark, and returns it. The folder
 * sits under the gateway's node_modules, so the modules the bundle leaves to Node (PGlite,
 * Swagger UI) resolve as they do from `dist/`. The caller removes it.
 */
export async function buildGatewayAside(): Promise<string> {
  const cache = join(gatewayDir, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const outdir = mkdtempSync(join(cache, 'gateway-build-'));
  await buildGateway(outdir);
  return outdir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outdir = process.argv[2] ?? `${gatewayDir}dist`;
  await buildGateway(outdir);
  console.log(`built ${outdir}`);
}
