// The loopback proxy of the reliability suite (__tests__/support/sqs-proxy.ts), in TypeScript:
// loaded as the tests load it. It adds the round-trip time and counts every request by action.
import { createRequire } from 'node:module';
import path from 'node:path';
import { root } from './run-options.mjs';

const require = createRequire(import.meta.url);
require('ts-node').register({ transpileOnly: true, project: path.join(root, 'tsconfig.json') });

export const { startSqsProxy } = require('../__tests__/support/sqs-proxy.ts');
