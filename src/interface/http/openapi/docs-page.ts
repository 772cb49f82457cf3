import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * The docs page: swagger-ui-dist's files served by the service itself (no CDN), an init script served as a file
 * so that no inline script is needed, and a CSP that lets the page load exactly these and fetch the document.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // swagger-ui.css draws its icons with data: SVGs.
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const ASSETS_PATH = '/docs/assets';

export const DOCS_HTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>auth-service API</title>
<link rel="stylesheet" href="${ASSETS_PATH}/swagger-ui.css">
<link rel="stylesheet" href="${ASSETS_PATH}/index.css">
<link rel="icon" type="image/png" href="${ASSETS_PATH}/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="${ASSETS_PATH}/docs-init.js"></script>
</body>
</html>
`;

/** No validator badge (it would call validator.swagger.io); the document comes from this origin. */
const INIT_SCRIPT = `'use strict';
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

export interface Asset {
  contentType: string;
  body: Buffer;
}

const JS = 'application/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const MAP = 'application/json; charset=utf-8';

/** The allow-list: a name not in it is a 404, so no path from the request ever reaches the file system. */
const DIST_FILES: Readonly<Record<string, string>> = {
  'swagger-ui-bundle.js': JS,
  'swagger-ui-bundle.js.map': MAP,
  'swagger-ui.css': CSS,
  'swagger-ui.css.map': MAP,
  'index.css': CSS,
  'favicon-32x32.png': 'image/png',
};

const INIT_ASSET: Asset = { contentType: JS, body: Buffer.from(INIT_SCRIPT) };

export const ASSET_NAMES: readonly string[] = [...Object.keys(DIST_FILES), 'docs-init.js'];
/** The media types those files are served with (the OpenAPI document lists one entry per type). */
export const ASSET_MEDIA_TYPES: readonly string[] = [...new Set([...Object.values(DIST_FILES), INIT_ASSET.contentType])];

/** Files are read once, on first use, and kept (about 4 MB with the source maps). */
export class DocsAssets {
  private readonly cache = new Map<string, Promise<Asset>>([['docs-init.js', Promise.resolve(INIT_ASSET)]]);
  private readonly dir = dirname(require.resolve('swagger-ui-dist/package.json'));

  /** The asset of that name, or null when the name is not on the allow-list. */
  get(name: string): Promise<Asset> | null {
    const cached = this.cache.get(name);
    if (cached) return cached;
    if (!Object.hasOwn(DIST_FILES, name)) return null;
    const contentType = DIST_FILES[name]!;
    const loading = readFile(join(this.dir, name)).then((body) => ({ contentType, body }));
    // A failed read is not kept: the next request tries again.
    loading.catch(() => this.cache.delete(name));
    this.cache.set(name, loading);
    return loading;
  }
}
