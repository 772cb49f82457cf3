/** Jest runs TypeScript through SWC (CommonJS output, decorator metadata on). ESM-only packages are transformed too. */
const esmOnly = ['inversify', '@inversifyjs', 'jose', '@electric-sql', '@seriousme/openapi-schema-validator'].join('|');
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly})/)`],
  moduleNameMapper: {
    '^@domain/(.*)$': '<rootDir>/src/domain/$1',
    '^@application/(.*)$': '<rootDir>/src/application/$1',
    '^@infrastructure/(.*)$': '<rootDir>/src/infrastructure/$1',
    '^@interface/(.*)$': '<rootDir>/src/interface/$1',
    '^@config/(.*)$': '<rootDir>/src/config/$1',
    '^@tests/(.*)$': '<rootDir>/tests/$1',
    // The SDK as other services import it (package.json exports["./sdk"]), from source in tests.
    '^auth-service/sdk$': '<rootDir>/src/sdk/index.ts',
  },
  testTimeout: 30000,
};
