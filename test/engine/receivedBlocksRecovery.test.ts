import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSluice } from '../helpers/sluiceProcess';

/**
 * A socket job killed with SIGKILL after its first batch's output was written, before that batch's checkpoint: the restart must
 * run the batch again from the blocks its checkpoint named (the lines are nowhere else), so every line is output
 * exactly once, and what arrives after the restart goes to later batches.
 */
describe('a socket job killed mid-batch and restarted', () => {
  let dir: string;
  let server: Server;
  const clients: Socket[] = [];
  /** What the server sends each connection, in order: the first process's lines, then the second's. */
  const sends = [
    Array.from({ length: 200 }, (_, i) => `first ${i} é✓`),
    Array.from({ length: 50 }, (_, i) => `second ${i}`),
  ];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-received-recovery-'));
    let connection = 0;
    server = createServer((socket) => {
      clients.push(socket);
      socket.on('error', () => {});
      const lines = sends[connection++] ?? [];
      if (lines.length > 0) socket.write(`${lines.join('\n')}\n`);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('outputs every line exactly once, the killed batch rerun from its stored blocks', async () => {
    // given a job that writes each batch's lines to a jsonl file, with 50 ms blocks
    const job = {
      name: 'socket-recovery',
      batchIntervalMs: 1000,
      blockIntervalMs: 50,
      sources: { lines: { type: 'socket', host: '127.0.0.1', port: (server.address() as AddressInfo).port } },
      outputs: [{ stream: 'lines', type: 'jsonl', path: 'out/lines.jsonl' }],
    };
    await writeFile(join(dir, 'job.json'), JSON.stringify(job));
    const args = ['run', 'job.json', '--batches', '3', '--store', 'store', '--quiet'];
    // when the first process is killed after batch 1000 wrote its output, before its checkpoint
    const killed = await runSluice(args, dir, 'commit:1000');
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const before = await batchesOf(dir);
    // (the lines were sent on connecting, long before the first tick: batch 1000 holds them all)
    expect(before.map((b) => b.batchTime)).toEqual([1000]);
    expect(before[0]!.records).toEqual(sends[0]);
    const blocksBefore = await blockFolders(dir);
    expect(blocksBefore.length).toBeGreaterThan(0);
    // (a block a killed process cut after its last tick, which no checkpoint names)
    const unnamed = `${blocksBefore[0]!.split('/')[0]}/b-0killed-000000007`;
    await mkdir(join(dir, 'store/input', unnamed), { recursive: true });
    await writeFile(join(dir, 'store/input', unnamed, 'block'), 'lost line');
    // and a second process resumes on the same store
    const resumed = await runSluice(args, dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    // then batch 1000 is output once, with the same lines, and the lines sent to the second process follow
    const after = await batchesOf(dir);
    expect(after.map((b) => b.batchTime)).toEqual([1000, 2000, 3000]);
    expect(after[0]!.records).toEqual(sends[0]);
    expect(after.flatMap((b) => b.records)).toEqual([...sends[0]!, ...sends[1]!]);
    // and the blocks of the rerun batch were deleted once it completed, and so was the unnamed block
    const blocksAfter = await blockFolders(dir);
    expect(blocksAfter.filter((b) => blocksBefore.includes(b) || b === unnamed)).toEqual([]);
  }, 60_000);
});

/** The jsonl output's batches. */
async function batchesOf(dir: string): Promise<{ batchTime: number; records: string[] }[]> {
  const text = await readFile(join(dir, 'out/lines.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { batchTime: number; records: string[] });
}

/** The block folders of every input stream in the store (`input/<stream>/b-<run>-<n>`). */
async function blockFolders(dir: string): Promise<string[]> {
  const folders: string[] = [];
  for (const stream of await readdir(join(dir, 'store/input')).catch(() => [] as string[])) {
    for (const name of await readdir(join(dir, 'store/input', stream))) folders.push(`${stream}/${name}`);
  }
  return folders;
}
