/**
 * Calls `handler` on SIGINT (Ctrl-C) and SIGTERM until the returned function is called. The listeners
 * stay registered (`on`, not `once`): the progress spinner's cursor restoring (signal-exit) re-raises a
 * signal it finds no other listener for, and a `once` listener is removed before the others run, which
 * killed `peer get` on a terminal before it could keep its part and say so.
 */
export function onInterrupt(handler: () => void): () => void {
  let handled = false;
  // One stop, however many times Ctrl-C is pressed.
  const once = () => {
    if (handled) return;
    handled = true;
    handler();
  };
  process.on('SIGINT', once);
  process.on('SIGTERM', once);
  return () => {
    process.off('SIGINT', once);
    process.off('SIGTERM', once);
  };
}
