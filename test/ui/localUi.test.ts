import { describe, expect, it } from 'vitest';
import { LocalUi } from '../../lib/ui/LocalUi';
import type { StreamingSummary } from '../../lib/ui/StreamingUiState';
import { StreamingUiState } from '../../lib/ui/StreamingUiState';

describe('a run that has ended', () => {
  it('is live in the summary until end(), then ended, with its error when it failed', async () => {
    // given two runs' states, one that ends well and one that fails
    const ok = new StreamingUiState('j', 1000);
    const failed = new StreamingUiState('j', 1000);
    expect(await ok.summary()).not.toHaveProperty('ended');
    // when they end
    ok.end(undefined, 5000);
    failed.end('batch 3000 failed: boom', 6000);
    failed.end(undefined, 7000);
    // then the summary says so, and the first end counts
    expect((await ok.summary()).ended).toEqual({ atMs: 5000 });
    expect((await failed.summary()).ended).toEqual({ atMs: 6000, error: 'batch 3000 failed: boom' });
  });

  it('is served as ended by sluice run --ui after LocalUi.end, until close', async () => {
    // given a local UI on a free port, its run described
    const ui = (await LocalUi.start({ ui: 0 }))!;
    let url = '';
    ui.describe('j', 1000, (line) => (url = /http\S+/.exec(line)![0]));
    try {
      // when the run fails and tells the UI
      ui.end('the store is gone');
      // then the page's JSON says it ended, with the error
      const summary = (await (await fetch(`${url}api/streaming`)).json()) as StreamingSummary;
      expect(summary.ended?.error).toBe('the store is gone');
    } finally {
      await ui.close();
    }
  });
});
