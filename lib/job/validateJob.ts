import { JobValidationError } from '../errors';
import { isObject } from './documentValues';
import { FunctionRegistry } from './FunctionRegistry';
import { graphIssues } from './graphIssues';
import { infiniteNumberIssues } from './infiniteNumberIssues';
import type { JobDocument } from './JobDocument';
import { MAX_ISSUES_SHOWN, MAX_NESTING, sizeIssues, tooDeepPath, withinEntryLimits } from './jobLimits';
import { ReferenceChecker } from './ReferenceChecker';
import { schemaIssues } from './schemaIssues';

/** Settings of {@link validateJob}. */
export interface ValidateJobOptions {
  /**
   * The functions `fn` fields may name. Default: the built-ins when the document has no `functions` module;
   * when it has one and no registry is given, function names are not checked (`buildJob` checks them once the
   * module is loaded).
   */
  readonly functions?: FunctionRegistry;
}

/**
 * Checks a job document and returns it typed, or throws a `JobValidationError` listing every problem, each at
 * the path of its field (`streams.counts.ops[1].windowMs`, `outputs[0].stream`) with the value found there.
 *
 * It checks the shape against `job.schema.json`, then what a schema cannot: that `from`, `with` and `stream`
 * name existing sources, streams or datasets, and `initialState` a dataset; that streams do not depend on each
 * other in a cycle; that record ops have either `fn` or `expr`; that every `expr` is valid JSONata; that `fn`
 * names resolve, to a function of the right kind where the registry knows it (a reducer for `invFn`); and that
 * `stateSnapshots` follows `mapWithState`. Last, when all that holds, it builds the graph (with functions that
 * never run) and reports what the engine refuses at the JSON path of the op that raised it (`graphIssues`):
 * windows, slides and checkpoint intervals that are not multiples of their input's slide, windows that keep
 * too many batches, inputs of different slides combined batch by batch.
 *
 * @example
 * const job = validateJob(JSON.parse(await readFile('job.json', 'utf8')));
 */
export function validateJob(doc: unknown, options: ValidateJobOptions = {}): JobDocument {
  // First, and alone: every later step (the schema's messages, which show the value found) may walk a value.
  const deep = tooDeepPath(doc);
  if (deep !== undefined) {
    throw new JobValidationError([
      {
        path: deep,
        message: `is nested more than ${MAX_NESTING} levels deep, more than a job document may nest; flatten it`,
      },
    ]);
  }
  const issues = schemaIssues(doc);
  issues.push(...infiniteNumberIssues(doc, issues));
  if (isObject(doc)) {
    const tooLarge = sizeIssues(doc);
    issues.push(...tooLarge);
    // The checks across fields walk chains of streams recursively: past the size limits (which the schema or
    // sizeIssues report) they could overflow the stack, and are not worth the time.
    if (tooLarge.length === 0 && withinEntryLimits(doc)) {
      const functions =
        options.functions ?? (doc.functions === undefined ? new FunctionRegistry() : undefined);
      issues.push(...new ReferenceChecker(doc, functions).check());
      // Then the engine checks the graph, built as buildJob builds it: only a document whose every name and
      // reference holds can be built.
      if (issues.length === 0) issues.push(...graphIssues(doc as unknown as JobDocument));
    }
  }
  if (issues.length > MAX_ISSUES_SHOWN) {
    const more = issues.length - MAX_ISSUES_SHOWN;
    issues.splice(MAX_ISSUES_SHOWN, more, {
      path: '',
      message: `and ${more} more problem(s) like those above; fix them and validate again`,
    });
  }
  if (issues.length > 0) throw new JobValidationError(issues);
  return doc as unknown as JobDocument;
}

// The limits were exported from here, and the package's API (`lib/index.ts`) still offers them.
export { MAX_WINDOW_BATCHES } from '../dstream/WindowedDStream';
export {
  MAX_GENERATED_BYTES_PER_BATCH,
  MAX_GENERATED_RECORDS_PER_BATCH,
  MAX_NESTING,
  MAX_OPS,
} from './jobLimits';
export { outputPathProblem } from './outputPathProblem';
