/**
 * The fault proxy's listening socket, which can go away for real: `outage()` closes it (and cuts
 * the open connections), so a client's connection attempts are refused by the kernel
 * (`ECONNREFUSED`), and `restore()` listens again on the same port. Loopback only. Plain Node.
 */
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { delay } from './reliability-proxy-kinds';

export interface OutageListener {
  /** The port, the same across outages. */
  readonly port: number;
  /** True while the port is closed (an outage), and after `close()`. */
  readonly refusing: boolean;
  /** Outages begun so far. */
  readonly outages: number;
  /** Open connections cut when an outage began. */
  readonly connectionsCut: number;
  /**
   * Closes the port and cuts every open connection; resolves once the port is closed. With
   * `forMs`, listens again after that long (the timer keeps no process alive). A call during an
   * outage only moves its end. Use `restore()` to end it early.
   */
  outage(forMs?: number): Promise<void>;
  /** Listens again on the same port (retrying a port taken meanwhile for up to 2 s). */
  restore(): Promise<void>;
  /** Closes for good. Idempotent. */
  close(): Promise<void>;
}

function listen(port: number, onConnection: (socket: Socket) => void): Promise<net.Server> {
  const server = net.createServer(onConnection);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

const shut = (server: net.Server): Promise<void> =>
  new Promise((resolve) => server.close(() => resolve()));

/** Listens on 127.0.0.1, on a free port; `sockets` are the open connections an outage cuts. */
export async function listenWithOutages(
  onConnection: (socket: Socket) => void,
  sockets: ReadonlySet<Socket>,
  onRestoreFailed: (error: Error) => void,
): Promise<OutageListener> {
  let server: net.Server | undefined = await listen(0, onConnection);
  const { port } = server.address() as AddressInfo;
  let closed = false;
  let outages = 0;
  let connectionsCut = 0;
  let timer: NodeJS.Timeout | undefined;
  // One transition at a time: a restore waits for the close before it.
  let queue: Promise<void> = Promise.resolve();
  const serial = (step: () => Promise<void>): Promise<void> => {
    const next = queue.then(step, step);
    queue = next.catch(() => undefined);
    return next;
  };

  const takeDown = async (): Promise<void> => {
    if (server === undefined) return;
    const current = server;
    server = undefined;
    const done = shut(current);
    for (const socket of sockets) {
      connectionsCut++;
      socket.destroy();
    }
    await done;
  };

  const restore = (): Promise<void> =>
    serial(async () => {
      clearTimeout(timer);
      if (closed || server !== undefined) return;
      for (let attempt = 1; ; attempt++) {
        try {
          server = await listen(port, onConnection);
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 40) throw error;
          await delay(50);
        }
      }
    });

  return {
    port,
    get refusing() {
      return server === undefined;
    },
    get outages() {
      return outages;
    },
    get connectionsCut() {
      return connectionsCut;
    },
    outage(forMs?: number): Promise<void> {
      return serial(async () => {
        if (closed) return;
        if (server !== undefined) outages++;
        await takeDown();
        clearTimeout(timer);
        if (forMs !== undefined) {
          timer = setTimeout(() => void restore().catch(onRestoreFailed), forMs);
          timer.unref();
        }
      });
    },
    restore,
    close(): Promise<void> {
      closed = true;
      clearTimeout(timer);
      return serial(takeDown);
    },
  };
}
