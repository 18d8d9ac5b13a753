import { getEventListeners } from 'node:events';
import { linkAbort, unlinkAbort, type AbortLink } from '../../lib/core/abort-links.js';

function recorder(): AbortLink & { reasons: unknown[] } {
  const reasons: unknown[] = [];
  return { slot: -1, reasons, onAbort: (reason) => reasons.push(reason) };
}

describe('linkAbort', () => {
  it('tells every linked attempt once when the signal aborts, with its reason', () => {
    const controller = new AbortController();
    const [a, b, gone] = [recorder(), recorder(), recorder()];
    linkAbort(controller.signal, a);
    linkAbort(controller.signal, gone);
    linkAbort(controller.signal, b);
    unlinkAbort(controller.signal, gone);
    const reason = new Error('stop');
    controller.abort(reason);
    controller.abort(new Error('again'));
    expect(a.reasons).toEqual([reason]);
    expect(b.reasons).toEqual([reason]);
    expect(gone.reasons).toEqual([]);
  });

  it('listens on the signal once, however many attempts link and unlink', () => {
    const controller = new AbortController();
    for (let i = 0; i < 50; i++) {
      const link = recorder();
      linkAbort(controller.signal, link);
      if (i % 2 === 0) unlinkAbort(controller.signal, link);
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
  });

  it('keeps signals apart, and is not called for a signal aborted before', () => {
    const [first, second] = [new AbortController(), new AbortController()];
    const [one, two, late] = [recorder(), recorder(), recorder()];
    linkAbort(first.signal, one);
    linkAbort(second.signal, two);
    first.abort('first');
    expect(one.reasons).toEqual(['first']);
    expect(two.reasons).toEqual([]);
    linkAbort(first.signal, late);
    expect(late.reasons).toEqual([]);
    second.abort('second');
    expect(two.reasons).toEqual(['second']);
  });
});
