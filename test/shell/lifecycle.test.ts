import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createQuitGuard, createRendererWatch, wirePowerEvents } from '../../src-main/electron/lifecycle';

function fakePowerMonitor() {
  const em = new EventEmitter();
  return Object.assign(em, { idle: 0, getSystemIdleTime(this: { idle: number }) { return this.idle; } });
}

function manualTimer() {
  let fn: (() => void) | undefined;
  return {
    setInterval: (f: () => void) => ((fn = f), 1),
    clearInterval: () => (fn = undefined),
    tick: () => fn?.(),
    get running() { return fn !== undefined; },
  };
}

describe('power events lock the session', () => {
  it('locks on OS screen lock, suspend and fast user switch, with the reason', () => {
    const pm = fakePowerMonitor();
    const lockNow = vi.fn();
    wirePowerEvents({ powerMonitor: pm, core: { lockNow }, idleLockSeconds: () => 900, timer: manualTimer() });
    pm.emit('lock-screen');
    pm.emit('suspend');
    pm.emit('user-did-resign-active');
    expect(lockNow.mock.calls).toEqual([['screen-lock'], ['suspend'], ['screen-lock']]);
  });

  it('locks once when the system has been idle for the policy timeout, and re-arms after activity', () => {
    const pm = fakePowerMonitor();
    const lockNow = vi.fn();
    const timer = manualTimer();
    let timeout = 600;
    wirePowerEvents({ powerMonitor: pm, core: { lockNow }, idleLockSeconds: () => timeout, timer });
    pm.idle = 599;
    timer.tick();
    expect(lockNow).not.toHaveBeenCalled();
    pm.idle = 600;
    timer.tick();
    pm.idle = 700;
    timer.tick();
    expect(lockNow.mock.calls).toEqual([['idle']]);
    pm.idle = 3; // the user is back
    timer.tick();
    timeout = 300; // a shorter effective timeout applies at once
    pm.idle = 300;
    timer.tick();
    expect(lockNow.mock.calls).toEqual([['idle'], ['idle']]);
  });

  it('locks when the OS reports the screen locked (Linux has no lock-screen event), once per locked stretch', () => {
    const pm = Object.assign(fakePowerMonitor(), { state: 'active' as 'active' | 'locked', getSystemIdleState(this: { state: 'active' | 'locked' }) { return this.state; } });
    const lockNow = vi.fn();
    const timer = manualTimer();
    wirePowerEvents({ powerMonitor: pm, core: { lockNow }, idleLockSeconds: () => 900, timer });
    timer.tick();
    expect(lockNow).not.toHaveBeenCalled();
    pm.state = 'locked';
    timer.tick();
    timer.tick();
    expect(lockNow.mock.calls).toEqual([['screen-lock']]);
    pm.state = 'active';
    timer.tick();
    pm.state = 'locked';
    timer.tick();
    expect(lockNow.mock.calls).toEqual([['screen-lock'], ['screen-lock']]);
  });

  it('reports a failing lock instead of throwing into the event loop, and disposes cleanly', async () => {
    const pm = fakePowerMonitor();
    const errors: unknown[] = [];
    const timer = manualTimer();
    const dispose = wirePowerEvents({
      powerMonitor: pm,
      core: { lockNow: () => Promise.reject(new Error('x')) },
      idleLockSeconds: () => 900,
      timer,
      onError: (e) => errors.push(e),
    });
    pm.emit('suspend');
    await Promise.resolve();
    expect(errors).toHaveLength(1);
    dispose();
    expect(pm.listenerCount('suspend') + pm.listenerCount('lock-screen') + pm.listenerCount('user-did-resign-active')).toBe(0);
    expect(timer.running).toBe(false);
  });
});

describe('quit guard', () => {
  it('holds the quit until the core has flushed and closed, then quits once', async () => {
    let finishClose!: () => void;
    const close = vi.fn(() => new Promise<void>((r) => (finishClose = r)));
    const quit = vi.fn();
    const onBeforeQuit = createQuitGuard({ core: { close }, quit });
    const e1 = { preventDefault: vi.fn() };
    onBeforeQuit(e1);
    expect(e1.preventDefault).toHaveBeenCalled();
    const e2 = { preventDefault: vi.fn() };
    onBeforeQuit(e2); // a second Cmd+Q while closing is held too
    expect(e2.preventDefault).toHaveBeenCalled();
    expect(close).toHaveBeenCalledTimes(1);
    expect(quit).not.toHaveBeenCalled();
    finishClose();
    await vi.waitFor(() => expect(quit).toHaveBeenCalledTimes(1));
    const e3 = { preventDefault: vi.fn() };
    onBeforeQuit(e3); // the real quit passes through
    expect(e3.preventDefault).not.toHaveBeenCalled();
  });

  it('still quits when close fails or hangs past the timeout', async () => {
    const errors: unknown[] = [];
    const quit = vi.fn();
    createQuitGuard({ core: { close: () => Promise.reject(new Error('vault')) }, quit, onError: (e) => errors.push(e) })({ preventDefault() {} });
    await vi.waitFor(() => expect(quit).toHaveBeenCalled());
    expect(errors).toHaveLength(1);

    const quit2 = vi.fn();
    createQuitGuard({ core: { close: () => new Promise<void>(() => {}) }, quit: quit2, timeoutMs: 20 })({ preventDefault() {} });
    await vi.waitFor(() => expect(quit2).toHaveBeenCalled());
  });
});

describe('renderer crash and hang', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup() {
    const order: string[] = [];
    let t = 0;
    const watch = createRendererWatch({
      core: { lockNow: (r) => order.push(`lock:${r}`) },
      reload: () => order.push('reload'),
      crashRenderer: () => order.push('crash'),
      giveUp: () => order.push('give-up'),
      hangGraceMs: 5000,
      now: () => t,
    });
    return { watch, order, advance: (ms: number) => (t += ms) };
  }

  it('locks before reloading after a crash', () => {
    const { watch, order } = setup();
    watch.onGone();
    expect(order).toEqual(['lock:user', 'reload']);
  });

  it('locks at once on a hang and kills the renderer if it stays hung', () => {
    const { watch, order } = setup();
    watch.onUnresponsive();
    expect(order).toEqual(['lock:user']);
    vi.advanceTimersByTime(5000);
    expect(order).toEqual(['lock:user', 'crash']);
  });

  it('does not kill a renderer that recovers within the grace period (it is already locked)', () => {
    const { watch, order } = setup();
    watch.onUnresponsive();
    watch.onResponsive();
    vi.advanceTimersByTime(10_000);
    expect(order).toEqual(['lock:user']);
  });

  it('gives up after repeated crashes within a minute, instead of a crash loop', () => {
    const { watch, order, advance } = setup();
    for (let i = 0; i < 4; i++) {
      watch.onGone();
      advance(1000);
    }
    expect(order.filter((s) => s === 'reload')).toHaveLength(3);
    expect(order.at(-1)).toBe('give-up');
    advance(120_000);
    watch.onGone();
    expect(order.at(-1)).toBe('reload');
  });
});
