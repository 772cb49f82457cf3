/**
 * Lets a child process of a test run TypeScript from src/ the way jest does (SWC, CommonJS, decorator
 * metadata, the path aliases of tsconfig.json): `node -r ./tests/support/swc-register.cjs file.ts`.
 */
const Module = require('node:module');
const path = require('node:path');
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

const root = path.resolve(__dirname, '../..');
const aliases = { '@domain/': 'src/domain/', '@application/': 'src/application/', '@infrastructure/': 'src/infrastructure/',
  '@interface/': 'src/interface/', '@config/': 'src/config/', '@tests/': 'tests/' };

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  for (const [prefix, dir] of Object.entries(aliases)) {
    if (request.startsWith(prefix)) return resolve.call(this, path.join(root, dir, request.slice(prefix.length)), ...rest);
  }
  return resolve.call(this, request, ...rest);
};

Module._extensions['.ts'] = function (module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
