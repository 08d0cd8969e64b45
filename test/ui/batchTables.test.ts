import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { batchRow, type StreamingSummary, StreamingUiState } from '../../lib/ui/StreamingUiState';
import {
  activeBatchesTable,
  completedBatchesTable,
  DEFAULT_VIEW,
  sortedBatches,
  sortedBy,
} from '../../lib/ui/static/batchTables.js';
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

  it('writes records and the counts in its title grouped by thousands, aligned as numbers', () => {
    // given 1,250 batches completed, the last of 12,345 records
    const batches = [batchRow(batchInfo({ batchTime: 1000, records: 12_345 }))];
    const table = completedBatchesTable({
      batches,
      completedBatches: 1250,
      batchIntervalMs: 1000,
      wallClock: false,
    });
    // then the records read 12,345 in a number's cell, and the title counts 1,250
    expect(table.html).toContain('</a></td><td>12,345</td>');
    expect(table.title).toBe('Completed Batches (last 1 out of 1,250)');
  });

  it('has an Error column only when a retained batch failed, as Spark has', () => {
    // given the batches without the two that failed
    const batches = summary().batches.filter((b) => !b.error);
    const { heads, rows } = read(completedBatchesTable({ ...summary(), batches }).html);
    // then no column is headed Error, and no cell is its dash
    expect(heads.map(([head]) => head)).not.toContain('Error');
    expect(rows[0]).toHaveLength(heads.length);
    // and with them, there is one
    expect(read(completedBatchesTable(summary()).html).heads.at(-1)).toEqual(['Error', 'none']);
  });

  it('is no table before a batch completed: its title says there are none', () => {
    const table = completedBatchesTable({
      batches: [],
      completedBatches: 0,
      batchIntervalMs: 1000,
      wallClock: true,
    });
    expect(table).toEqual({ title: 'Completed Batches (last 0 out of 0)', pager: '', html: '', page: 0 });
  });

  it('keeps batches of equal value in the same order on every poll: newest first', () => {
    const ties = sortedBatches(summary().batches, 'processingTime', true).filter(
      (b) => b.processingTimeMs === 100,
    );
    expect(ties.slice(0, 3).map((b) => b.batchTime)).toEqual([246_000, 239_000, 232_000]);
  });
});

describe('the Active Batches table', () => {
  /**
   * The active batches of a run in this process: 3 queued and 2 running of 20, 50, 30, 10, 40 records, as the UI's
   * state of the run has them 10 s after the first fell due.
   */
  async function active() {
    const state = new StreamingUiState('j', 1000, 0, false);
    const records = [20, 50, 30, 10, 40];
    for (const [i, n] of records.entries()) {
      state.onBatchSubmitted((i + 1) * 1000, n, Date.now() - 10_000 + i * 1000, 2);
    }
    state.onBatchStarted(1000);
    state.onBatchStarted(2000);
    state.onOutputOpCompleted(2000, 0, 'boom');
    return state.summary();
  }

  it('opens newest first, as the completed one does', async () => {
    const { heads, rows } = read(activeBatchesTable(await active()).html);
    expect(rows.map((r) => [r[0], r[1], r[4], r[5]])).toEqual([
      ['5 s', '40', '0/2', 'queued'],
      ['4 s', '10', '0/2', 'queued'],
      ['3 s', '30', '0/2', 'queued'],
      ['2 s', '50', '0/2 (1 failed)', 'processing'],
      ['1 s', '20', '0/2', 'processing'],
    ]);
    expect(heads[0]).toEqual(['Batch Time', 'descending']);
  });

  it('sorts by any column, as the completed one: records largest first, then reversed; status running first', async () => {
    // given the active batches
    const summary = await active();
    // when the reader clicks Records
    const byRecords = sortedBy(DEFAULT_VIEW, 'records');
    const { heads, rows } = read(activeBatchesTable(summary, byRecords).html);
    // then the batches are in order of their records, largest first, and the head says so
    expect(rows.map((r) => r[1])).toEqual(['50', '40', '30', '20', '10']);
    expect(heads.find(([head]) => head === 'Records')).toEqual(['Records', 'descending']);
    // and a second click reverses them
    const reversed = activeBatchesTable(summary, sortedBy(byRecords, 'records'));
    expect(read(reversed.html).rows.map((r) => r[1])).toEqual(['10', '20', '30', '40', '50']);
    // and Status puts the running batches first, the newest of them first
    const byStatus = read(activeBatchesTable(summary, sortedBy(DEFAULT_VIEW, 'status')).html);
    expect(byStatus.rows.map((r) => [r[0], r[5]])).toEqual([
      ['2 s', 'processing'],
      ['1 s', 'processing'],
      ['5 s', 'queued'],
      ['4 s', 'queued'],
      ['3 s', 'queued'],
    ]);
  });

  it('is no table when no batch is active, as Spark hides its empty ones: its title says there are none', async () => {
    const table = activeBatchesTable(await new StreamingUiState().summary());
    expect(table).toEqual({ title: 'Active Batches (0)', pager: '', html: '', page: 0 });
  });

  it('writes records grouped by thousands, as the completed one does', async () => {
    const state = new StreamingUiState('j', 1000, 0, false);
    state.onBatchSubmitted(1000, 2500, Date.now(), 1);
    const { rows } = read(activeBatchesTable(await state.summary()).html);
    expect(rows[0]?.[1]).toBe('2,500');
  });

  it('names its heads and pager buttons by its table, so that a click sorts this table, not the other', async () => {
    const { html } = activeBatchesTable(await active());
    expect(html.match(/data-table="active"/g)).toHaveLength(6);
    expect(completedBatchesTable(summary()).html).not.toContain('data-table="active"');
  });
});

describe("the batch tables' module", () => {
  it('is the one the server sends to the browser', async () => {
    const server = await UiServer.start(new StreamingUiState(), 0);
    try {
      const served = await (await fetch(`${server.url}static/batchTables.js`)).text();
      expect(served).toBe(
        await readFile(new URL('../../lib/ui/static/batchTables.js', import.meta.url), 'utf8'),
      );
    } finally {
      await server.close();
    }
  });
});
