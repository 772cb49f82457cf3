import { EventEmitter } from 'node:events';
import { catchStopSignals } from '@config/stop-signals';

/** catchStopSignals on an emitter standing for the process: the listeners are there before any handler is. */
describe('catchStopSignals', () => {
  it('listens for SIGTERM and SIGINT at once, and holds the first signal until a handler is set', () => {
    const target = new EventEmitter();
    const signals = catchStopSignals(target as unknown as NodeJS.Process);
    expect(target.listenerCount('SIGTERM')).toBe(1);
    expect(target.listenerCount('SIGINT')).toBe(1);
    target.emit('SIGTERM');
    target.emit('SIGINT');
    expect(signals.pending).toBe('SIGTERM');
    const handled: string[] = [];
    signals.handleWith((signal) => handled.push(signal));
    expect(handled).toEqual(['SIGTERM']);
    expect(signals.pending).toBeNull();
  });

  it('hands every later signal to the handler, which decides what a second one does', () => {
    const target = new EventEmitter();
    const signals = catchStopSignals(target as unknown as NodeJS.Process);
    const handled: string[] = [];
    signals.handleWith((signal) => handled.push(signal));
    expect(handled).toEqual([]);
    target.emit('SIGINT');
    target.emit('SIGTERM');
    expect(handled).toEqual(['SIGINT', 'SIGTERM']);
    expect(signals.pending).toBeNull();
  });

  it('a handler set later replaces the first (the cluster primary hands the signals to runPrimary)', () => {
    const target = new EventEmitter();
    const signals = catchStopSignals(target as unknown as NodeJS.Process);
    const first: string[] = [];
    signals.handleWith((signal) => first.push(signal));
    signals.handleWith(() => undefined);
    target.emit('SIGTERM');
    expect(first).toEqual([]);
  });
});
