/** Tests run on the Lambda's Node major (node@24 from devDependencies is first on PATH under npm scripts). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // middy is ESM-only: let swc turn it into CommonJS along with our TypeScript.
  transform: { '^.+\\.(t|m?j)s$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }] },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  testTimeout: 60000,
  // Jest's default on 2 cores is one worker; most suites wait on child processes, so two halve the wall time
  // (~160 s instead of ~260 s) and nothing in the tests depends on the machine's speed.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
