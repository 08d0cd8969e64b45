'use strict';
/**
 * Preloaded into a Node server we do not control (`NODE_OPTIONS=--require …/listenOnLoopback.cjs`), so that it
 * listens on the loopback interface only. LocalStack's Kinesis, kinesis-mock, listens on `0.0.0.0` and has no
 * setting for the host: on a shared machine that serves the emulator's streams to the network. A `listen` on
 * every interface (no host, `0.0.0.0`, `::` or an empty host) listens on `127.0.0.1` instead; one that names
 * another host, a path or a handle is left as it is.
 */
const net = require('node:net');

const LOOPBACK = '127.0.0.1';
const listen = net.Server.prototype.listen;

/** True for a host that means every interface. */
const everyInterface = (host) =>
  host === undefined || host === null || host === '' || host === '0.0.0.0' || host === '::';

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const [first] = args;
  if (first === undefined || typeof first === 'function') {
    args.unshift(0, LOOPBACK); // listen([callback]): any free port
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, callback]): a host is a string in the second place.
    if (typeof args[1] !== 'string') args.splice(1, 0, LOOPBACK);
    else if (everyInterface(args[1])) args[1] = LOOPBACK;
  } else if (first !== null && typeof first === 'object' && !(first instanceof net.Server)) {
    const bindsPort = first.path === undefined && first.handle === undefined && first.fd === undefined;
    if (bindsPort && everyInterface(first.host)) args[0] = { ...first, host: LOOPBACK };
  }
  return listen.apply(this, args);
};
