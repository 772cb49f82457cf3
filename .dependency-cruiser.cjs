/**
 * The layer rule of DESIGN.md as a check that fails `npm test`: dependencies point inward only.
 * domain <- application <- infrastructure / interface <- config <- main
 */
const NODE_BUILTINS = '^(node:|crypto$|fs$|path$|http$|net$|os$|child_process$)';

/**
 * src/application's folders, each with the folders it may import (besides its own): one order, so no cycle between
 * folders, and a folder not listed here fails the check until it is given its place. ports and shared are one base
 * (ports' types name shared's settings and shared's helpers use ports). account, mfa and oauth do not import one
 * another; admin uses them all. Until stop 62 the rules named folder pairs one by one, and mfa -> admin (support's
 * removal of a second factor, now admin/remove-user-mfa.ts) with admin -> mfa went through (a review).
 */
const BASE = ['ports', 'shared'];
const FEATURE_FOLDERS = {
  ports: BASE,
  shared: BASE,
  session: BASE,
  password: [...BASE, 'session'],
  account: [...BASE, 'session', 'password'],
  mfa: [...BASE, 'session', 'password'],
  oauth: [...BASE, 'session', 'password'],
  admin: [...BASE, 'session', 'password', 'account', 'mfa', 'oauth'],
};
const FEATURE_FOLDER_RULES = [
  ...Object.entries(FEATURE_FOLDERS).map(([folder, may]) => ({
    name: `feature-folder-${folder}`,
    comment: `src/application/${folder} imports only ${[folder, ...may].join(', ')} of the application's folders.`,
    severity: 'error',
    from: { path: `^src/application/${folder}/` },
    to: { path: '^src/application/', pathNot: `^src/application/(${[folder, ...may].join('|')})/` },
  })),
  {
    name: 'feature-folder-known',
    comment: 'every file of src/application that imports is in a folder with its place in FEATURE_FOLDERS (a new folder needs one; a rule fires on an import, so a file importing nothing is not seen).',
    severity: 'error',
    from: { path: '^src/application/', pathNot: `^src/application/(${Object.keys(FEATURE_FOLDERS).join('|')})/` },
    to: {},
  },
];
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
      name: 'infrastructure-implements-ports',
      comment:
        'adapters know the application through its ports and shared settings, not its use cases. The one exception: the account-request worker, a driving adapter that runs on the background-worker machinery of infrastructure/jobs, takes ProcessAccountRequest by type.',
      severity: 'error',
      from: { path: '^src/infrastructure/', pathNot: '^src/infrastructure/jobs/account-request-worker\\.ts$' },
      to: { path: '^src/application/', pathNot: '^src/application/(ports|shared)/' },
    },
    {
      name: 'interface-not-into-adapters',
      comment: 'driving adapters call use cases; they do not construct or import driven adapters.',
      severity: 'error',
      from: { path: '^src/interface/', pathNot: '^src/interface/cli/' },
      to: { path: '^src/(infrastructure|config)/' },
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
    ...FEATURE_FOLDER_RULES,
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
