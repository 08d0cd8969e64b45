import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { descendantsOf, pidFile, testKinesisClient } from './localstack';

/** LocalStack's processes, as its teardown finds them: the one it started, and every process below it. */
function localstackProcesses(): number[] {
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return [pid, ...descendantsOf(pid)];
}

/** The socket inodes a process holds open. */
function socketInodes(pid: number): string[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return []; // exited meanwhile
  }
  return fds.flatMap((fd) => {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      return match ? [match[1]!] : [];
    } catch {
      return [];
    }
  });
}

/** `/proc/net/tcp{,6}`'s hex address as text: IPv4 `127.0.0.1:4566`, IPv6 as its 32 hex digits and port. */
function addressOf(hex: string, v6: boolean): { text: string; loopback: boolean } {
  const [host, port] = hex.split(':') as [string, string];
  const portNumber = Number.parseInt(port, 16);
  if (!v6) {
    const bytes = Buffer.from(host, 'hex').reverse(); // the kernel prints the address in host byte order
    return { text: `${[...bytes].join('.')}:${portNumber}`, loopback: bytes[0] === 127 };
  }
  // Four 32-bit words, each in host byte order: ::1 is 0…0 01000000; ::ffff:127.x.x.x ends in FFFF0000 xx00007F.
  const words = (host.match(/.{8}/g) ?? []).map((word) => Buffer.from(word, 'hex').reverse());
  const bytes = Buffer.concat(words);
  const isV6Loopback = bytes.subarray(0, 15).every((b) => b === 0) && bytes[15] === 1;
  const isMappedLoopback =
    bytes.subarray(0, 10).every((b) => b === 0) &&
    bytes[10] === 0xff &&
    bytes[11] === 0xff &&
    bytes[12] === 127;
  return { text: `[${bytes.toString('hex')}]:${portNumber}`, loopback: isV6Loopback || isMappedLoopback };
}

/** The addresses these processes listen on (TCP). */
function listeningAddresses(pids: readonly number[]): { text: string; loopback: boolean }[] {
  const inodes = new Set(pids.flatMap(socketInodes));
  const found: { text: string; loopback: boolean }[] = [];
  for (const [file, v6] of [
    ['/proc/net/tcp', false],
    ['/proc/net/tcp6', true],
  ] as const) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      // sl, local_address, rem_address, st (0A is LISTEN), …, inode in the tenth column
      if (columns.length < 10 || columns[3] !== '0A' || !inodes.has(columns[9]!)) continue;
      found.push(addressOf(columns[1]!, v6));
    }
  }
  return found;
}

describe('the emulators the tests start', () => {
  it('listen on the loopback interface only: LocalStack and its kinesis-mock', async () => {
    // given LocalStack running and kinesis-mock started (LocalStack starts it on the first Kinesis call)
    await testKinesisClient().send(new ListStreamsCommand({}));
    const processes = localstackProcesses();
    // when their listening sockets are listed
    const addresses = listeningAddresses(processes);
    // then there are the gateway and kinesis-mock's, and every one is on loopback
    expect(addresses.map((a) => a.text)).toContain('127.0.0.1:4566');
    expect(addresses.length, JSON.stringify(addresses)).toBeGreaterThanOrEqual(2);
    expect(addresses.filter((a) => !a.loopback).map((a) => a.text)).toEqual([]);
  });
});
