import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';

// The UI's files are served from the installed package, so /docs works offline.
const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const assets = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const;

const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>LLM gateway admin API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="api"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>window.onload = () => { window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#api' }); };</script>
</body>
</html>`;

/** `/openapi.json` (the admin API, from its zod schemas) and a browsable reference at `/docs`. */
export function adminDocsRoutes(openApiDocument: () => unknown) {
  const app = new Hono<AppEnv>();
  let document: unknown;
  app.get('/openapi.json', (c) => {
    document ??= openApiDocument();
    return c.json(document as object);
  });
  app.get('/docs', (c) => c.html(page));
  for (const [file, type] of Object.entries(assets)) {
    let content: Promise<Buffer> | undefined;
    app.get(`/docs/${file}`, async (c) => {
      content ??= readFile(join(swaggerDir, file));
      return c.body(new Uint8Array(await content), 200, {
        'content-type': type,
        'cache-control': 'public, max-age=86400',
      });
    });
  }
  return app;
}
