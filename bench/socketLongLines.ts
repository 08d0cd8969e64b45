/**
 * How the socket source's line assembly scales with line length: one line of 16, 64 and 128 MiB sent over
 * loopback in 64 KiB writes, then a short line, with `maxLineBytes` above the line (the line is kept whole)
 * and at the 4 MiB default (the line becomes a dead letter). Linear assembly shows a flat time per MiB; the
 * old string concatenation took 24 s and 1.9 GB for 64 MiB and never finished 128 MiB.
 *
 *   node --import tsx bench/socketLongLines.ts
 */
import { once } from 'node:events';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { DEFAULT_MAX_LINE_BYTES, SocketSource } from '../lib/source/SocketSource';

const MiB = 1024 * 1024;

/** Sends one line of `lineBytes` and a short one, and times until the source holds both. */
async function trial(lineBytes: number, maxLineBytes: number): Promise<{ ms: number; rssMiB: number }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const source = new SocketSource('127.0.0.1', (server.address() as AddressInfo).port, {
    maxLineBytes,
    log: () => {},
  });
  await source.start();
  const [client] = await accepted;
  const piece = Buffer.alloc(64 * 1024, 'x');
  let peakRss = process.memoryUsage().rss;
  const started = performance.now();
  const sending = (async () => {
    for (let sent = 0; sent < lineBytes; sent += piece.length) {
      if (!client.write(piece)) await once(client, 'drain');
    }
    client.write('\nnext\n');
  })();
  const records: unknown[] = [];
  while (records.length < 2) {
    records.push(...(await source.recordsFor()));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (records.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const ms = performance.now() - started;
  await sending;
  await source.stop();
  client.destroy();
  await new Promise((resolve) => server.close(resolve));
  if (records[1] !== 'next') throw new Error(`the line after the long one came out as ${String(records[1])}`);
  return { ms, rssMiB: peakRss / MiB };
}

console.log('| line | maxLineBytes | time | ms per MiB | peak RSS |');
console.log('| --- | --- | --- | --- | --- |');
for (const lineMiB of [16, 64, 128]) {
  for (const maxLineBytes of [256 * MiB, DEFAULT_MAX_LINE_BYTES]) {
    const { ms, rssMiB } = await trial(lineMiB * MiB, maxLineBytes);
    console.log(
      `| ${lineMiB} MiB | ${maxLineBytes / MiB} MiB | ${ms.toFixed(0)} ms | ${(ms / lineMiB).toFixed(1)} | ${rssMiB.toFixed(0)} MiB |`,
    );
  }
}
