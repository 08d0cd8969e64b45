import { loadavg } from 'node:os';

/** The load average (1/5/15 min) as a results file prints it: `7.5 / 8.3 / 5.3`. */
export function loadLine(): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
}

/**
 * Runs every side `rounds` times, alternating which goes first each round, so that a change of load on the shared
 * machine falls on both sides alike; each run is logged to stderr as it ends. Gives every side's runs and the load
 * before and after.
 */
export async function alternatingRounds<Side extends string, Run>(
  sides: readonly Side[],
  rounds: number,
  runOnce: (side: Side) => Promise<Run>,
): Promise<{ runs: Map<Side, Run[]>; loadBefore: string; loadAfter: string }> {
  const loadBefore = loadLine();
  const runs = new Map<Side, Run[]>(sides.map((side) => [side, []]));
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
      const run = await runOnce(side);
      runs.get(side)!.push(run);
      console.error(`${side} round ${r + 1}: ${JSON.stringify(run)}`);
    }
  }
  return { runs, loadBefore, loadAfter: loadLine() };
}
