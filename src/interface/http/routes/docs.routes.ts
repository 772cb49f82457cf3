import { HttpError } from '../errors/http-error';
import { ASSET_NAMES, DOCS_CSP, DOCS_HTML, DocsAssets } from '../openapi/docs-page';
import { OpenApiDocument } from '../openapi/openapi-document';
import type { RouteDef } from '../routing/route';

const TAGS = ['docs'];
const assets = new DocsAssets();

const openApiJson: RouteDef<object, OpenApiDocument> = {
  method: 'GET',
  path: '/openapi.json',
  summary: 'The OpenAPI 3.1 document of this API',
  tags: TAGS,
  auth: 'none',
  responses: { 200: { description: 'The OpenAPI document.', schema: { type: 'object' }, envelope: false } },
  errors: [],
  uses: OpenApiDocument,
  async handle(ctx, openApi) {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'application/json';
    ctx.body = openApi.json;
  },
};

const docsPage: RouteDef = {
  method: 'GET',
  path: '/docs',
  summary: 'The API documentation page (Swagger UI)',
  tags: TAGS,
  auth: 'none',
  responses: { 200: { description: 'An HTML page rendering /openapi.json.', envelope: false, contentType: 'text/html' } },
  errors: [],
  async handle(ctx) {
    // The service's CSP forbids everything; this page may load its own scripts and styles, nothing else.
    ctx.set('Content-Security-Policy', DOCS_CSP);
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = DOCS_HTML;
  },
};

const docsAsset: RouteDef = {
  method: 'GET',
  path: '/docs/assets/:file',
  summary: `A file of the documentation page (one of ${ASSET_NAMES.join(', ')})`,
  tags: TAGS,
  auth: 'none',
  // The document lists the allow-list's media types instead of this one (openapi/build-document.ts MEDIA_TYPES).
  responses: { 200: { description: 'The file, with the media type of its kind (script, style sheet, source map, icon).', envelope: false, contentType: 'application/octet-stream' } },
  errors: ['ROUTE_NOT_FOUND'],
  async handle(ctx) {
    const asset = assets.get(String(ctx.params['file'] ?? ''));
    if (asset === null) throw new HttpError('ROUTE_NOT_FOUND', 'No route matches this path.');
    const { contentType, body } = await asset;
    // swagger-ui-dist is pinned: a file changes only with a new release of the service.
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.type = contentType;
    ctx.body = body;
  },
};

/** GET /openapi.json, GET /docs and its files. `OpenApiDocument` must be bound in the container. */
export const DOCS_ROUTES: readonly RouteDef[] = [openApiJson, docsPage, docsAsset];
