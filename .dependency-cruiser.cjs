/**
 * The layer rule of DESIGN.md as a check that fails `npm test`: dependencies point inward only.
 * domain <- application <- infrastructure / interface <- config <- main
 */
const NODE_BUILTINS = '^(node:|crypto$|fs$|path$|http$|net$|os$|child_process$)';
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'src/domain imports nothing outside src/domain: no framework, no node built-in, no npm package.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { pathNot: '^src/domain/' },
    },
    {
      name: 'application-imports-domain-only',
      comment: 'src/application depends on the domain and its own ports only (inversify decorators allowed).',
      severity: 'error',
      from: { path: '^src/application/' },
      to: { pathNot: ['^src/(domain|application)/', '^node_modules/(inversify|reflect-metadata)/'] },
    },
    {
      name: 'infrastructure-not-outward',
      comment: 'adapters implement ports; they never reach the interface layer or the composition root.',
      severity: 'error',
      from: { path: '^src/infrastructure/' },
      to: { path: '^src/(interface|config)/|^src/main\\.ts$' },
    },
    {
      name: 'interface-not-into-adapters',
      comment: 'driving adapters call use cases; they do not construct or import driven adapters.',
      severity: 'error',
      from: { path: '^src/interface/', pathNot: '^src/interface/cli/' },
      to: { path: '^src/(infrastructure|config)/' },
    },
    {
      name: 'feature-folders-layered',
      comment:
        'src/application feature folders depend one way: account -> password -> session -> shared/ports (and mfa, oauth, admin on top as they come); never back, so no cycle between folders.',
      severity: 'error',
      from: { path: '^src/application/(session|shared|ports)/' },
      to: { path: '^src/application/(account|password|mfa)/' },
    },
    {
      name: 'mfa-on-top',
      comment: 'mfa uses password (the current-password guard) and session (issuing the session after the second step); they never use it.',
      severity: 'error',
      from: { path: '^src/application/(account|password|session)/' },
      to: { path: '^src/application/mfa/' },
    },
    {
      name: 'password-not-into-account',
      severity: 'error',
      from: { path: '^src/application/password/' },
      to: { path: '^src/application/account/' },
    },
    {
      name: 'shared-not-into-features',
      comment: 'shared helpers and ports know no feature folder.',
      severity: 'error',
      from: { path: '^src/application/(shared|ports)/' },
      to: { path: '^src/application/(session|account|password|mfa)/' },
    },
    {
      name: 'sdk-stands-alone',
      comment:
        'src/sdk (exports["./sdk"], CONTRACT §9) ships to other services: nothing of src/ outside src/sdk, no npm package at run time but jose, Koa as types only.',
      severity: 'error',
      from: { path: '^src/sdk/' },
      to: { pathNot: ['^src/sdk/', '^node_modules/jose/', '^node_modules/(@types/)?koa/', '^node_modules/amqplib/', NODE_BUILTINS] },
    },
    {
      name: 'sdk-amqplib-in-feed-only',
      comment: 'amqplib is an optional peer dependency of the SDK: only the revocation feed (and its link, amqp-link.ts) may use it.',
      severity: 'error',
      from: { path: '^src/sdk/', pathNot: '^src/sdk/(revocation-feed|amqp-link)\\.ts$' },
      to: { path: '^node_modules/amqplib/' },
    },
    {
      name: 'sdk-amqplib-lazy',
      comment: 'the feed loads amqplib with import() when a feed is created (its types statically); a static import would make it required.',
      severity: 'error',
      from: { path: '^src/sdk/(revocation-feed|amqp-link)\\.ts$' },
      to: { path: '^node_modules/amqplib/', dependencyTypesNot: ['dynamic-import', 'type-only'] },
    },
    {
      name: 'sdk-koa-types-only',
      comment: 'the middleware is typed against Koa; importing Koa itself would make it a run-time dependency.',
      severity: 'error',
      from: { path: '^src/sdk/' },
      to: { path: '^node_modules/(@types/)?koa/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'nothing-imports-the-sdk',
      comment: 'the service does not depend on its own client library (the SDK may be split out).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/sdk/' },
      to: { path: '^src/sdk/' },
    },
    {
      name: 'oauth-on-top',
      comment: 'src/application/oauth (issue 11) uses session, shared and ports; no other feature folder imports it.',
      severity: 'error',
      from: { path: '^src/application/(session|shared|ports|account|password)/' },
      to: { path: '^src/application/oauth/' },
    },
    {
      name: 'admin-on-top',
      comment: 'the admin feature (issue 12) uses the others; no other application folder imports it.',
      severity: 'error',
      from: { path: '^src/application/(session|shared|ports|account|password)/' },
      to: { path: '^src/application/admin/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
