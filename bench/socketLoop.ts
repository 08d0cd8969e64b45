/**
 * The ceiling for socket input: a hand-written loop that reads the benchmark's line server as a plain TCP
 * client and greps or counts as the lines come, with no engine between (no batches, blocks, store or tasks).
 * `bench/socketInput.ts` runs it in a child process beside the engine, on the same socket at the same rate.
 *
 * Usage: `node --import tsx bench/socketLoop.ts workload=grep|wordCount port=40123`. Closing stdin ends it; it
 * then prints one JSON line: `{"lines":…,"answer":…,"cpuMs":…,"wallMs":…}` (answer: matching lines, or distinct
 * words), cpuMs being this process's user + system CPU time while it read.
 */
import { createConnection } from 'node:net';
import { GREP_WORD } from './jobs';

const options = new Map(process.argv.slice(2).map((a) => a.split('=', 2) as [string, string]));
const workload = options.get('workload') ?? 'grep';
const port = Number(options.get('port'));

let lines = 0;
let matches = 0;
const counts = new Map<string, number>();
let tail = '';
const startedCpu = process.cpuUsage();
const startedMs = performance.now();

/** One line, as the hand-written loops over an array do it (`bench/handWrittenLoops.ts`). */
function onLine(line: string): void {
  lines++;
  if (workload === 'grep') {
    if (line.includes(GREP_WORD)) matches++;
    return;
  }
  const words = line.split(' ');
  for (let w = 0; w < words.length; w++) counts.set(words[w]!, (counts.get(words[w]!) ?? 0) + 1);
}

const socket = createConnection({ host: '127.0.0.1', port });
socket.setEncoding('utf8'); // a character split across chunks is joined by the decoder
socket.on('data', (chunk: string) => {
  let start = 0;
  for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
    onLine(start === 0 && tail !== '' ? tail + chunk.slice(0, nl) : chunk.slice(start, nl));
    if (start === 0) tail = '';
    start = nl + 1;
  }
  tail = start === 0 ? tail + chunk : chunk.slice(start);
});
socket.on('error', () => {});
socket.on('connect', () => process.stdout.write(`${JSON.stringify({ event: 'started' })}\n`));

process.stdin.on('end', () => {
  const cpu = process.cpuUsage(startedCpu);
  const answer = workload === 'grep' ? matches : counts.size;
  process.stdout.write(
    `${JSON.stringify({ lines, answer, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - startedMs })}\n`,
  );
  process.exit(0);
});
process.stdin.resume();
