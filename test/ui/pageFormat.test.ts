import { describe, expect, it } from 'vitest';
import { ApiError, batchPageError, deadLetterRecord } from '../../lib/ui/static/pageFormat.js';

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
