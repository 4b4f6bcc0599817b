#!/usr/bin/env node
/**
 * The tslab kernel as genlab registers it: tslab 1.0.22's own entry point, with one fix applied first.
 *
 * tslab sends every Jupyter message with zeromq's `socket.send(...)` and does not wait for it. zeromq 6 allows
 * one send in progress per socket: the first few hundred go through at once, but as soon as one is delayed
 * the next throws `EBUSY: Socket is busy writing`, the rejection is unhandled, and the kernel dies in the
 * middle of a notebook (seen with live progress bars, which send an update several times a second). Here each
 * socket's sends are queued behind the previous one, which is the ordering tslab assumed anyway.
 *
 * Plain JavaScript: it runs as the kernel's binary (kernel.json argv[0]), before and apart from the build.
 */
'use strict';
const path = require('node:path');

const tslabDir = path.dirname(require.resolve('tslab/package.json'));
const zmq = require(require.resolve('zeromq', { paths: [tslabDir] }));

const pending = new WeakMap();
for (const name of ['Publisher', 'Router', 'Reply', 'Dealer']) {
  const SocketClass = zmq[name];
  if (typeof SocketClass !== 'function') continue;
  const send = SocketClass.prototype.send;
  Object.defineProperty(SocketClass.prototype, 'send', {
    configurable: true,
    writable: true,
    value: function queuedSend(message) {
      const previous = pending.get(this) || Promise.resolve();
      const result = previous.then(() => send.call(this, message));
      pending.set(this, result.catch(() => undefined));
      return result;
    },
  });
}

require(path.join(tslabDir, 'dist', 'main.js')).main();
