// Shared mocha settings: every package runs its compiled specs from dist/test.
const path = require('node:path')
module.exports = {
  spec: ['dist/test/**/*.spec.js'],
  require: [path.join(__dirname, 'scripts', 'polyfills.cjs')],
  reporter: path.join(__dirname, 'scripts', 'mocha-reporter.cjs'),
  timeout: 30000,
  exit: true,
  'forbid-only': true,
  'forbid-pending': Boolean(process.env.CI)
}
