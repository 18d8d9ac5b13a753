// The embedded SQS emulator, in a file of its own because fauxqs is ESM-only and the tests
// run as CommonJS: importing this file with a native `import()` works from CommonJS callers.
//
// Two uses:
// - imported: `startEmbeddedFauxqs()` starts fauxqs in the caller's process;
// - run as a script (`node __tests__/support/fauxqs-server.mjs [port]`): fauxqs in a process
//   of its own (its own core, for benchmarks). It reports `{ endpoint, port }` over IPC when
//   spawned with an IPC channel, else as one JSON line on stdout. It stops on SIGTERM / SIGINT,
//   and by itself when its parent process goes away.
import { startFauxqs } from 'fauxqs';
import { setInterval } from 'node:timers';
import { pathToFileURL } from 'node:url';

/**
 * Starts fauxqs on `port` (0: a free one). Its own request logger is off: it logs every request.
 * @param {number} [port]
 */
export function startEmbeddedFauxqs(port = 0) {
  return startFauxqs({ port, logger: false });
}

const runAsScript = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;

if (runAsScript) {
  const server = await startEmbeddedFauxqs(Number(process.argv[2] ?? 0));
  const ready = { endpoint: `http://127.0.0.1:${server.port}`, port: server.port };
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.stop().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // Orphaned (the parent died and we were re-parented): stop, even without an IPC channel.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && stop(), 1_000).unref();
  if (process.send) {
    // The parent's end of the channel closes when it exits or dies: never outlive it.
    process.once('disconnect', stop);
    process.send(ready);
  } else {
    process.stdout.write(`${JSON.stringify(ready)}\n`);
  }
}
