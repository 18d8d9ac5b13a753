import { debuglog } from 'node:util';

/**
 * `NODE_DEBUG=sqs-streams` diagnostics. Callers pass counts, ids and codes only: never a body,
 * a receipt handle or a credential.
 */
export const debug = debuglog('sqs-streams');
