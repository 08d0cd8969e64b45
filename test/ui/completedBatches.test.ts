import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { batchRow, type StreamingSummary, StreamingUiState } from '../../lib/ui/StreamingUiState';
import {
  completedBatchesTable,
  DEFAULT_VIEW,
  sortedBatches,
  sortedBy,
} from '../../lib/ui/static/completedBatches.js';
import { UiServer } from '../../lib/ui/UiServer';
import { batchInfo } from '../helpers/batchInfo';

/** 250 completed batches on the logical clock: total delay n % 7 * 100 ms, batch 2000 and 5000 failed. */
function summary(): Pick<StreamingSummary, 'batches' | 'completedBatches' | 'batchIntervalMs' | 'wallClock'> {
  const batches = Array.from({ length: 250 }, (_, i) => {
    const n = i + 1;
    return batchRow(
      batchInfo({
        batchTime: n * 1000,
        records: n,
        processingTimeMs: (n % 7) * 100,
        ...(n === 2 || n === 5 ? { error: `batch ${n} failed\nat line 3` } : {}),
      }),
    );
  });
  return { batches, completedBatches: 250, batchIntervalMs: 1000, wallClock: false };
}

/** The table's rows as their cells' text, and its heads with how each is sorted. */
function read(html: string) {
  const heads = [...html.matchAll(/<th[^>]*aria-sort="(\w+)"[^>]*>([^<]*)<\/th>/g)].map((m) => [m[2], m[1]]);
  const rows = [...html.matchAll(/<tr class="">(.*?)<\/tr>/g)].map((m) =>
    [...m[1]!.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, '')),
  );
  return { heads, rows };
}

describe('the Completed Batches table', () => {
  it('opens newest first, 100 a page, with the batch time as the sorted column', () => {
    // when the table is drawn as the page opens
    const table = completedBatchesTable(summary(), DEFAULT_VIEW);
    const { heads, rows } = read(table.html);
    // then it is Spark's: newest first, the batch time sorted, 3 pages
    expect(rows.map((r) => r[0])).toEqual(Array.from({ length: 100 }, (_, i) => `${250 - i} s`));
    expect(heads[0]).toEqual(['Batch Time', 'descending']);
    expect(heads.slice(1).every(([, sorted]) => sorted === 'none')).toBe(true);
    expect(table.title).toBe('Completed Batches (last 250 out of 250)');
    expect(table.pager.match(/<button/g)).toHaveLength(3);
  });

  it('sorts every retained batch by total delay, largest first, then reverses on a second click', () => {
    // when the reader clicks Total Delay
    const byDelay = sortedBy({ ...DEFAULT_VIEW, page: 2 }, 'totalDelay');
    const { heads, rows } = read(completedBatchesTable(summary(), byDelay).html);
    // then the largest delays (600 ms: batches 6, 13, …, 244) come first, the newest of them first, from page 1
    expect(byDelay).toEqual({ page: 0, sortBy: 'totalDelay', descending: true });
    expect(rows.slice(0, 3).map((r) => [r[0], r[4]])).toEqual([
      ['244 s', '600 ms'],
      ['237 s', '600 ms'],
      ['230 s', '600 ms'],
    ]);
    expect(heads.find(([head]) => head === 'Total Delay')).toEqual(['Total Delay', 'descending']);
    expect(heads[0]).toEqual(['Batch Time', 'none']);
    // and a second click puts the smallest first
    const reversed = sortedBy(byDelay, 'totalDelay');
    expect(reversed.descending).toBe(false);
    expect(read(completedBatchesTable(summary(), reversed).html).rows[0]!.slice(0, 5)).toEqual([
      '245 s',
      '245',
      '0 ms',
      '0 ms',
      '0 ms',
    ]);
  });

  it('puts the failed batches first when sorted by status, with their errors', () => {
    const { rows } = read(completedBatchesTable(summary(), sortedBy(DEFAULT_VIEW, 'status')).html);
    expect(rows.slice(0, 3).map((r) => [r[0], r[5], r[6], r.at(-1)])).toEqual([
      ['5 s', '0/1', 'failed', 'batch 5 failed'],
      ['2 s', '0/1', 'failed', 'batch 2 failed'],
      ['250 s', '1/1', 'succeeded', '-'],
    ]);
  });

  it('pages the sorted batches: the last page of records, smallest first, is the largest', () => {
    const view = { page: 2, sortBy: 'records', descending: false };
    const table = completedBatchesTable(summary(), view);
    expect(table.page).toBe(2);
    expect(read(table.html).rows.map((r) => r[1])).toEqual(
      Array.from({ length: 50 }, (_, i) => String(201 + i)),
    );
    // and a page beyond the last (the retained batches are fewer after a reload) shows the last
    expect(completedBatchesTable(summary(), { ...view, page: 9 }).page).toBe(2);
  });

  it('keeps batches of equal value in the same order on every poll: newest first', () => {
    const ties = sortedBatches(summary().batches, 'processingTime', true).filter(
      (b) => b.processingTimeMs === 100,
    );
    expect(ties.slice(0, 3).map((b) => b.batchTime)).toEqual([246_000, 239_000, 232_000]);
  });
});

describe("the Completed Batches table's module", () => {
  it('is the one the server sends to the browser', async () => {
    const server = await UiServer.start(new StreamingUiState(), 0);
    try {
      const served = await (await fetch(`${server.url}static/completedBatches.js`)).text();
      expect(served).toBe(
        await readFile(new URL('../../lib/ui/static/completedBatches.js', import.meta.url), 'utf8'),
      );
    } finally {
      await server.close();
    }
  });
});
