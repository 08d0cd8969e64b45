import { describe, expect, it } from 'vitest';
import {
  ApiError,
  activeBatchesNote,
  averageLabel,
  batchPageError,
  batchTimeLabel,
  countLabel,
  deadLetterRecord,
  delayUnit,
  histogram,
  htmlRow,
  inputStreamRows,
  msLabel,
  pollDelayMs,
  runEndBanner,
  stabilityLine,
  startedAtLabel,
  statisticsCharts,
  statisticsTitle,
} from '../../lib/ui/static/pageFormat.js';
import { batchInfo } from '../helpers/batchInfo';

describe("the batch page's dead letters", () => {
  it('shows a record as JSON, cut to 300 characters, and a letter without one as such', () => {
    // given letters with a line, a long pair, and no record (undefined is not kept in the letter's JSON)
    // then each is written, none throws
    expect(deadLetterRecord({ record: 'not json' })).toBe('"not json"');
    expect(deadLetterRecord({ record: ['k', 'v'.repeat(400)] })).toHaveLength(300);
    expect(deadLetterRecord({ record: undefined })).toBe('(no record)');
    expect(deadLetterRecord({} as { record: unknown })).toBe('(no record)');
  });
});

describe("the batch page's error", () => {
  it("says the API's reason for a 404, and tells a drawing error from an unreadable batch", () => {
    expect(batchPageError('5000', new ApiError(404, 'no batch 5000 has completed in this run'))).toBe(
      'No batch 5000 has completed in this run.',
    );
    expect(
      batchPageError('5000', new TypeError("Cannot read properties of undefined (reading 'slice')")),
    ).toBe(
      "The page of batch 5000 could not be drawn: Cannot read properties of undefined (reading 'slice')",
    );
    expect(batchPageError('5000', new ApiError(500, 'The UI could not read the metrics: boom'))).toBe(
      'The UI could not read batch 5000 (500): The UI could not read the metrics: boom',
    );
  });
});

describe("the Statistics' histograms", () => {
  /** The bins with batches in them, as [left edge, right edge, count]. */
  const drawn = (h: ReturnType<typeof histogram>) =>
    h.counts.flatMap((count, i) => (count ? [[h.edges[i]!, h.edges[i + 1], count]] : []));

  it('draws a constant input inside the chart: its bin ends where the x scale does', () => {
    // given 10 batches of the same input rate, 5 records/sec
    const h = histogram(Array(10).fill(5), 20);
    // then their bin is the last, from 4.75 to 5, and the data (which the x scale spans) ends at 5
    expect(drawn(h)).toEqual([[4.75, 5, 10]]);
    expect(h.edges.at(-1)).toBe(5);
  });

  it('has a left edge for every bin and a closing right edge, the scale at least the interval', () => {
    // given delays up to 400 ms against a batch interval of 1000 ms
    const h = histogram([0, 100, 400], 20, 1000);
    // then 21 edges from 0 to 1000 and every batch counted, each in a bin inside [0, 1000]
    expect([h.edges.length, h.edges[0], h.edges.at(-1), h.counts.at(-1)]).toEqual([21, 0, 1000, null]);
    expect(drawn(h)).toEqual([
      [0, 50, 1],
      [100, 150, 1],
      [400, 450, 1],
    ]);
  });
});

describe('a batch time label', () => {
  it('has the decimals that tell batches of the interval apart', () => {
    // then at 50 ms, 1050 and 1100 differ; at 1 s whole seconds; at 1 ms and 250 ms, as many as needed
    expect([batchTimeLabel(1050, 50), batchTimeLabel(1100, 50), batchTimeLabel(1000, 50)]).toEqual([
      '1.05 s',
      '1.10 s',
      '1.00 s',
    ]);
    expect([batchTimeLabel(7000, 1000), batchTimeLabel(1_201_000, 1000)]).toEqual(['7 s', '1201 s']);
    expect([batchTimeLabel(1001, 1), batchTimeLabel(1250, 250), batchTimeLabel(1500, 500)]).toEqual([
      '1.001 s',
      '1.25 s',
      '1.5 s',
    ]);
  });
});

describe("the Statistics' averages", () => {
  it('say - before the first batch, and the mean after it', () => {
    expect(averageLabel([], 'ms')).toBe('Avg: -');
    expect(averageLabel([], 'records/sec')).toBe('Avg: -');
    expect(averageLabel([10, 21], 'ms')).toBe('Avg: 16 ms');
    expect(averageLabel([1, 2], 'records/sec')).toBe('Avg: 1.50 records/sec');
  });

  it('group a rate by thousands, as Spark writes it', () => {
    expect(averageLabel([12_000, 12_691], 'records/sec')).toBe('Avg: 12,345.50 records/sec');
  });
});

describe('counts', () => {
  it('are grouped by thousands, as Spark writes them, with the decimals asked for', () => {
    expect([0, 999, 1000, 1_234_567].map((n) => countLabel(n))).toEqual(['0', '999', '1,000', '1,234,567']);
    expect(countLabel(1234.5, 2)).toBe('1,234.50');
  });

  it("are a table's number cells, aligned as numbers; a text cell is left as it is", () => {
    expect(htmlRow([12_345, '12345', undefined])).toBe(
      '<tr class=""><td>12,345</td><td class="text">12345</td><td>-</td></tr>',
    );
  });
});

describe('the banner of a run that has ended', () => {
  it('is absent while the run is live, then says how it ended, and the page polls seldom', () => {
    expect([runEndBanner({}), pollDelayMs({}), pollDelayMs(undefined)]).toEqual([undefined, 1000, 1000]);
    expect(runEndBanner({ ended: { atMs: 1 } })).toBe('The run has ended.');
    expect(runEndBanner({ ended: { atMs: 1, error: 'boom' } })).toBe('The run failed: boom');
    expect(pollDelayMs({ ended: { atMs: 1 } })).toBe(10_000);
  });
});

describe('the line under Active Batches', () => {
  const active = [
    {
      batchTime: 6000,
      records: 3,
      status: 'queued',
      dueAtMs: 0,
      schedulingDelayMs: 4280,
      outputOpsTotal: 1,
      outputOpsSucceeded: 0,
      outputOpsFailed: 0,
    } as const,
  ];

  it('says a run that ended left its active batches, which will never complete', () => {
    // given a local run that failed with batch 6000 still queued
    const summary = { readOnly: false, active, ended: { atMs: 1, error: 'the sink is down' } };
    // then the line says they never will complete, and a live run's active batches need no line
    expect(activeBatchesNote(summary, 10_000)).toBe(
      'The run ended before these batches completed: they never will, and their delays are as of its end.',
    );
    expect(activeBatchesNote({ readOnly: false, active }, 10_000)).toBeUndefined();
    expect(activeBatchesNote({ ...summary, active: [] }, 10_000)).toBeUndefined();
  });

  it('says on AWS how long ago the coordinator wrote them, or that it never did', () => {
    expect(activeBatchesNote({ readOnly: true, active, activeAsOfMs: 7000 }, 10_000)).toBe(
      'As the coordinator wrote them 3 seconds ago (it does every 5 seconds while batches complete).',
    );
    expect(activeBatchesNote({ readOnly: true, active: [] }, 10_000)).toBe(
      'The coordinator has not written its active batches (it does so with its kept metrics).',
    );
  });
});

describe('the stability line', () => {
  const batch = batchInfo({ batchTime: 1000 });
  const queued = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      batchTime: (i + 2) * 1000,
      records: 1,
      status: 'queued' as const,
      dueAtMs: 0,
      schedulingDelayMs: 0,
      outputOpsTotal: 1,
      outputOpsSucceeded: 0,
      outputOpsFailed: 0,
    }));

  it('judges nothing before the first batch completes, rather than calling the job stable', () => {
    expect(stabilityLine({ delayGrowingFor: 0, active: queued(1), batches: [] })).toEqual({
      stable: undefined,
      text: 'No batch has completed yet: stability is judged from the total delay of completed batches.',
    });
  });

  it('calls a job not stable when 10 batches wait in the queue, even before one completes', () => {
    // given a first batch that takes so long that 10 more were generated behind it
    const line = stabilityLine({ delayGrowingFor: 0, active: queued(10), batches: [] });
    // then the backlog is the sign, as the growing delay would be once they complete
    expect(line).toEqual({
      stable: false,
      text: 'Not stable: 10 batches are queued for a job slot; batches arrive faster than they are done.',
    });
    expect(stabilityLine({ delayGrowingFor: 0, active: queued(9), batches: [batch] }).stable).toBe(true);
  });

  it('follows the delay trend once batches complete: stable below 10 batches of growth, not from 10', () => {
    expect(stabilityLine({ delayGrowingFor: 1, active: [], batches: [batch] })).toEqual({
      stable: true,
      text: 'Stable: the total delay has grown 1 batch in a row (not stable from 10).',
    });
    expect(stabilityLine({ delayGrowingFor: 10, active: [], batches: [batch] })).toEqual({
      stable: false,
      text: 'Not stable: the total delay has grown 10 batches in a row; batches arrive faster than they are done.',
    });
  });
});

describe("the Statistics' charts", () => {
  const chart = (charts: ReturnType<typeof statisticsCharts>, name: string) =>
    charts.find((c) => c.name === name)!;

  it('give the three delays one unit and one y range, as Spark does, so their heights compare', () => {
    // given batches queued 10 to 400 ms and processed in 1.4 s, at a 1 s interval
    const charts = statisticsCharts({
      batchIntervalMs: 1000,
      batches: [
        batchInfo({ batchTime: 1000, schedulingDelayMs: 10, processingTimeMs: 1400, records: 3 }),
        batchInfo({ batchTime: 2000, schedulingDelayMs: 400, processingTimeMs: 1400, records: 3 }),
      ],
    });
    // then every delay is in seconds up to the largest, 1.8 s, and the interval line is at 1 sec
    const delays = ['schedulingDelay', 'processingTime', 'totalDelay'].map((n) => chart(charts, n));
    expect(delays.map((c) => [c.unit, c.yMax])).toEqual([
      ['sec', 1.8],
      ['sec', 1.8],
      ['sec', 1.8],
    ]);
    expect(chart(charts, 'schedulingDelay').values).toEqual([0.01, 0.4]);
    expect(chart(charts, 'processingTime').intervalLine).toBe(1);
    // and the input rate is in records/sec, on its own range
    expect(chart(charts, 'inputRate')).toMatchObject({ unit: 'records/sec', values: [3, 3], yMax: 3 });
  });

  it('reach the batch interval at least, so the line a stable processing time stays under is in view', () => {
    // given delays of a few ms at a 1 s interval
    const charts = statisticsCharts({
      batchIntervalMs: 1000,
      batches: [batchInfo({ batchTime: 1000, schedulingDelayMs: 2, processingTimeMs: 12 })],
    });
    // then they stay in ms, up to the interval
    expect([chart(charts, 'totalDelay').unit, chart(charts, 'totalDelay').yMax]).toEqual(['ms', 1000]);
    expect(chart(charts, 'totalDelay').intervalLine).toBe(1000);
  });

  it("chart each input stream's rate under the total, on the total's range, when there are several", () => {
    // given two input streams, clicks and views, over two batches of 2 s
    const batches = [
      batchInfo({ batchTime: 2000, records: 6, inputRecords: { n1: 4, n2: 2 } }),
      batchInfo({ batchTime: 4000, records: 10, inputRecords: { n1: 10 } }),
    ];
    const inputStreams = [
      { id: 'n1', name: 'clicks' },
      { id: 'n2', name: 'views' },
    ];
    const charts = statisticsCharts({ batchIntervalMs: 2000, batches, inputStreams });
    // then each stream's rate follows the total, named by its stream, a batch without it at 0, on the total's range
    expect(charts.map((c) => c.name).slice(0, 3)).toEqual(['inputRate', 'inputRate-n1', 'inputRate-n2']);
    expect(chart(charts, 'inputRate-n1')).toMatchObject({ label: 'clicks', values: [2, 5], yMax: 5 });
    expect(chart(charts, 'inputRate-n2')).toMatchObject({ label: 'views', values: [1, 0], yMax: 5 });
    // and a job of one stream has only the total, which is that stream's rate
    const one = statisticsCharts({ batchIntervalMs: 2000, batches, inputStreams: inputStreams.slice(0, 1) });
    expect(one.map((c) => c.name)).toEqual(['inputRate', 'schedulingDelay', 'processingTime', 'totalDelay']);
  });

  it('write a delay of minutes or hours in those units, not in millions of ms', () => {
    const charts = statisticsCharts({
      batchIntervalMs: 1000,
      batches: [batchInfo({ batchTime: 1000, schedulingDelayMs: 1_200_000, processingTimeMs: 1000 })],
    });
    expect(chart(charts, 'totalDelay').unit).toBe('min');
    expect(chart(charts, 'schedulingDelay').values).toEqual([20]);
    expect([delayUnit(999).unit, delayUnit(2 * 3_600_000).unit]).toEqual(['ms', 'hrs']);
  });
});

describe("the header's start and the Statistics' heading", () => {
  it('say the zone of the start, and which batches the charts cover', () => {
    // the start is written as a batch time is (Spark's one date format), in UTC, and says so
    expect(startedAtLabel(Date.UTC(2026, 10, 29, 0, 56, 5, 250))).toBe('2026/11/29 00:56:05 UTC');
    // given 1,005 batches completed, the last 1,000 retained, and none active: the counts grouped by thousands
    const batches = Array.from({ length: 1000 }, (_, i) => batchInfo({ batchTime: (i + 6) * 1000 }));
    expect(statisticsTitle({ batches, completedBatches: 1005, active: [] })).toBe(
      'Statistics (last 1,000 completed batches of 1,005; 0 active, not charted)',
    );
  });
});

describe("the batch page's input streams", () => {
  it('give each stream its records and what it took, with how many more lines the metrics did not keep', () => {
    // given a batch of a folder of 12 files (10 lines kept) and a generator
    const info = batchInfo({
      batchTime: 2000,
      inputRecords: { n1: 12, n2: 5 },
      inputs: {
        n1: { name: 'logs', took: ['f10.txt (7 bytes)', 'f11.txt (7 bytes)'], tookNotShown: 10 },
        n2: { name: 'tweets', took: ['records 5–9'] },
      },
    });
    // then each row has its name, records and lines, the folder's ending with how many more it read
    expect(inputStreamRows(info)).toEqual([
      { name: 'logs', records: 12, took: ['f10.txt (7 bytes)', 'f11.txt (7 bytes)', '… and 10 more'] },
      { name: 'tweets', records: 5, took: ['records 5–9'] },
    ]);
    // and metrics written before streams were named have no rows
    expect(inputStreamRows(batchInfo({ batchTime: 1000, inputRecords: { n1: 3 } }))).toEqual([]);
  });
});

describe("the tables' durations", () => {
  it("go from ms to s, then min and h as Spark's tables do, so a delay of 20 minutes is not 1200.0 s", () => {
    // given the delays of a job from keeping up to far behind
    // then each reads in the unit of its size
    expect([999, 1500, 59_949, 60_000, 1_200_000, 3_599_000, 5_400_000].map(msLabel)).toEqual([
      '999 ms',
      '1.5 s',
      '59.9 s',
      '1.0 min',
      '20.0 min',
      '60.0 min',
      '1.5 h',
    ]);
    expect(msLabel(undefined)).toBe('-');
  });
});
