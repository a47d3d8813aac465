/** Tests run on the Lambda's Node major (node@24 from devDependencies is first on PATH under npm scripts). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // middy is ESM-only: let swc turn it into CommonJS along with our TypeScript;
  transform: { '^.+\\.(t|m?j)s$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }] },
  // puppeteer-core (and the two packages of its own it loads) is ESM-only too.
  transformIgnorePatterns: ['/node_modules/(?!@middy/|puppeteer-core/|@puppeteer/|chromium-bidi/)'],
  testTimeout: 60000,
  // Jest's default on 2 cores is one worker; most suites wait on child processes, so two halve the wall time
  // (~160 s instead of ~260 s) and nothing in the tests depends on the machine's speed.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  // Every command a test sends to an aws-sdk-client-mock mock is checked against the AWS API model, and every SDK
  // call in the sources must be sent by some test (test/support/api-model-*.ts).
  setupFilesAfterEnv: ['<rootDir>/test/support/api-model-setup.ts'],
  globalSetup: '<rootDir>/test/support/api-model-global-setup.ts',
  globalTeardown: '<rootDir>/test/support/api-model-teardown.ts',
};
