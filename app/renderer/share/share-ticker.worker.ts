/**
 * A metronome for hidden pages: browsers stop requestAnimationFrame and throttle main-thread timers
 * in hidden tabs, but not a worker's timers. `postMessage(intervalMs)` starts it, `0` stops it.
 */
let timer: ReturnType<typeof setInterval> | undefined;

self.onmessage = (event: MessageEvent<number>) => {
  clearInterval(timer);
  timer = undefined;
  if (event.data > 0) timer = setInterval(() => self.postMessage(performance.now()), event.data);
};
