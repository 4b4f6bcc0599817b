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

// The second fix: a zeromq Publisher keeps at most 1000 messages (its send high-water mark) for a subscriber that
// is behind and silently drops the rest. Jupyter's client reads IOPub more slowly than a loop can display, so a
// burst of outputs lost figures, and a lost status message can leave the client waiting forever. No limit: the
// frontend always drains IOPub, so the backlog lives briefly in the kernel's memory instead of being dropped.
// The option applies to connections made after it is set, so it is set before the socket binds.
const bind = zmq.Publisher.prototype.bind;
Object.defineProperty(zmq.Publisher.prototype, 'bind', {
  configurable: true,
  writable: true,
  value: function unlimitedBind(address) {
    this.sendHighWaterMark = 0;
    return bind.call(this, address);
  },
});

require(path.join(tslabDir, 'dist', 'main.js')).main();
