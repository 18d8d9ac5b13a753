// pack-check-testing.cjs's check, on `import { startSqs } from 'sqs-streams/testing'`.
import { createRequire } from 'node:module';
import { startSqs } from 'sqs-streams/testing';

const require = createRequire(import.meta.url);
if (require('sqs-streams/testing').startSqs !== startSqs) {
  console.error('import and require of sqs-streams/testing gave different functions');
  process.exit(1);
}
await require('./pack-check-testing.cjs').check(startSqs, process.argv[2], 'import');
