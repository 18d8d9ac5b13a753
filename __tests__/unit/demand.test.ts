import { afterEmpty, nextReceiveSize, nextWaitSeconds } from '../../lib/receive/demand.js';
import { DEFAULT_RETRY } from '../../lib/core/retry.js';

// The demand rule on its own (DESIGN.md invariant 1); readable-demand.test.ts checks the stream
// actually follows it.

const base = { highWaterMark: 20, batchSize: 10, maxMessages: Infinity, received: 0 };

describe('nextReceiveSize', () => {
  it.each([
    ['an empty buffer asks for a full batch', { buffered: 0, requested: 0 }, 10],
    ['a full batch of room asks for it', { buffered: 10, requested: 0 }, 10],
    ['less than a full batch of room waits', { buffered: 11, requested: 0 }, 0],
    ['requests in flight count as held', { buffered: 0, requested: 10 }, 10],
    ['no room, no receive', { buffered: 10, requested: 10 }, 0],
    ['a starving reader takes what demand there is', { buffered: 0, requested: 15 }, 5],
  ])('%s', (_label, counts, expected) => {
    expect(nextReceiveSize({ ...base, ...counts })).toBe(expected);
  });

  it('never asks past maxMessages, counting what is in flight', () => {
    const state = { ...base, maxMessages: 25, received: 18, buffered: 3, requested: 0 };
    expect(nextReceiveSize(state)).toBe(7);
    expect(nextReceiveSize({ ...state, requested: 7 })).toBe(0);
  });

  it('treats a highWaterMark below batchSize as the full batch', () => {
    expect(nextReceiveSize({ ...base, highWaterMark: 4, buffered: 0, requested: 0 })).toBe(4);
    expect(nextReceiveSize({ ...base, highWaterMark: 4, buffered: 1, requested: 0 })).toBe(0);
  });
});

describe('nextWaitSeconds', () => {
  it('uses the configured wait without an idle timeout', () => {
    expect(nextWaitSeconds(20, undefined, 0, 1_000_000)).toBe(20);
  });

  it('shortens the poll to the idle time left', () => {
    expect(nextWaitSeconds(20, 5_000, undefined, 0)).toBe(5);
    expect(nextWaitSeconds(20, 30_000, 1_000, 22_500)).toBe(9);
    expect(nextWaitSeconds(20, 5_000, 0, 6_000)).toBe(0);
  });
});

describe('afterEmpty', () => {
  const emptyBackoff = { ...DEFAULT_RETRY, startingDelay: 200, jitter: 'none' as const };
  const base = {
    now: 10_000,
    emptySince: 10_000,
    streak: 0,
    idleTimeoutMs: undefined,
    emptyBackoff,
  };

  it('goes on at once after a long poll that waited its time', () => {
    expect(afterEmpty({ ...base, startedAt: 0, waitSeconds: 10 })).toEqual({
      end: false,
      pauseMs: undefined,
      streak: 0,
    });
  });

  it('backs off after a short poll, or a long poll that came back early, doubling per streak', () => {
    expect(afterEmpty({ ...base, startedAt: 9_990, waitSeconds: 0 })).toEqual({
      end: false,
      pauseMs: 200,
      streak: 1,
    });
    expect(afterEmpty({ ...base, startedAt: 9_000, waitSeconds: 20, streak: 2 })).toEqual({
      end: false,
      pauseMs: 800,
      streak: 3,
    });
  });

  it('ends once the queue has been empty for idleTimeoutMs, and never pauses past it', () => {
    expect(
      afterEmpty({ ...base, startedAt: 0, waitSeconds: 0, emptySince: 0, idleTimeoutMs: 10_000 }),
    ).toEqual({ end: true });
    const next = afterEmpty({
      ...base,
      startedAt: 9_990,
      waitSeconds: 0,
      emptySince: 9_900,
      streak: 5,
      idleTimeoutMs: 1_000,
    });
    expect(next).toEqual({ end: false, pauseMs: 900, streak: 6 });
  });
});
