import type { Dataset } from '../dataset/Dataset';
import { StreamGraphError } from '../errors';
import type { DStream } from './DStream';
import type { ForEachDStream } from './ForEachDStream';
import type { InputDStream } from './InputDStream';

/** The streams of a job: every node by id, the inputs, and the outputs that turn into jobs each batch. */
export class DStreamGraph {
  private readonly nodes: DStream<any>[] = [];
  /** The input streams, in creation order. */
  readonly inputs: InputDStream<any>[] = [];
  /** The output operations, in creation order: each batch runs their jobs in this order. */
  readonly outputs: ForEachDStream<any>[] = [];
  private started = false;

  /** True once `start` ran: the graph is built, and no stream can be added. */
  get isStarted(): boolean {
    return this.started;
  }

  /** Adds a node and returns its stable id; ids follow creation order, so every process agrees on them. */
  addNode(node: DStream<any>): string {
    if (this.started) throw new StreamGraphError('streams cannot be added after the context has started');
    this.nodes.push(node);
    return `n${this.nodes.length}`;
  }

  /** Registers an input stream. */
  addInput(input: InputDStream<any>): void {
    this.inputs.push(input);
  }

  /** Registers an output operation. */
  addOutput(output: ForEachDStream<any>): void {
    this.outputs.push(output);
  }

  /** The node with a given id. */
  node(id: string): DStream<any> | undefined {
    return this.nodes[Number(id.slice(1)) - 1];
  }

  /**
   * The last batch time a stream may read `dataset` again, when it is the dataset a stream generated for a batch:
   * that batch plus how long the stream remembers it. Undefined for any other dataset.
   */
  rememberedUntil(dataset: Dataset): number | undefined {
    const stream = dataset.generatingStream;
    const node = stream === undefined ? undefined : this.node(stream);
    return node && dataset.generatedAs!.batchTime + node.rememberMs; // generatingStream: generatedAs is set
  }

  /** Validates the graph and sets start time and remember durations, before the first batch. */
  start(zeroTime: number, minRememberMs = 0): void {
    if (this.started) return;
    this.validate();
    for (const output of this.outputs) output.initialize(zeroTime);
    for (const output of this.outputs) output.remember(minRememberMs);
    this.started = true;
  }

  /**
   * What `start` refuses, without starting: the control function checks a job module's graph when it is started,
   * so that the answer says what is wrong rather than every coordinator run failing on it.
   */
  validate(): void {
    if (this.outputs.length === 0) {
      throw new StreamGraphError(
        'the job has no output operation: add print, saveAsTextFiles, foreachRDD or jsonl',
      );
    }
    for (const output of this.outputs) output.validateAtStart();
    // Every input takes its batch at every tick (see JobScheduler.generateJobs), but only what an output reads is
    // started: an input that none reads failed every batch with "has not been started". Refused here instead, as
    // a job document refuses a source that no output reads.
    const read = this.upstreamOf(this.outputs);
    const unread = this.inputs.find((input) => !read.has(input));
    if (unread) {
      throw new StreamGraphError(
        `the input stream ${unread.origin ?? unread.name} is read by no output: nothing would start it, and every ` +
          'batch would fail; remove it, or add an output of a stream that reads it',
        unread.origin,
      );
    }
  }

  /**
   * The persisted streams to compute at `batchTime` because a window reads them at its next slide (see
   * `DStream.aheadOfSlide`), each once, with the window that reads it.
   */
  aheadOfSlide(batchTime: number): Array<{ readonly stream: DStream<any>; readonly window: DStream<any> }> {
    const ahead = new Map<DStream<any>, DStream<any>>();
    for (const node of this.nodes) {
      const stream = node.aheadOfSlide(batchTime);
      if (stream && !ahead.has(stream)) ahead.set(stream, node);
    }
    return [...ahead].map(([stream, window]) => ({ stream, window }));
  }

  /**
   * The shape of the graph: node ids, kinds and slides. A checkpoint resumes only into a graph of the same
   * shape; functions may change.
   */
  signature(): string {
    return this.nodes.map((n) => `${n.id}:${n.constructor.name}:${n.slideMs}`).join(',');
  }

  /** Each stream's {@link DStream.resumeSettings}, by node id, for the streams that have them. */
  resumeSettings(): Record<string, string> {
    const settings: Record<string, string> = {};
    for (const node of this.nodes) {
      const own = node.resumeSettings();
      if (own !== undefined) settings[node.id] = own;
    }
    return settings;
  }

  /**
   * Forgets what no stream needs once every batch up to `lastCompletedBatch` is done (and that batch's metadata
   * checkpoint is written): datasets, persisted copies, input blocks. Each stream is asked after every stream
   * that reads it, so it keeps the oldest batch any of them still needs, `minRememberMs` more (`remember`), and
   * what it remembers on its own account, its previous batch (see `DStream.forgetBound`). Two bounds go up the
   * graph: what the consumers' batches to come read, and that with what their remembered batches read.
   * Returns a batch time at or before which no stream computes any dataset again.
   */
  clearMetadata(lastCompletedBatch: number, minRememberMs = 0): number {
    const newest = lastCompletedBatch - minRememberMs;
    const needed = new Map<DStream<any>, number>();
    const remembered = new Map<DStream<any>, number>();
    let oldest = newest;
    const lower = (bounds: Map<DStream<any>, number>, stream: DStream<any>, time: number) =>
      bounds.set(stream, Math.min(bounds.get(stream) ?? time, time));
    for (const node of this.consumersFirst()) {
      const neededAfter = Math.min(needed.get(node) ?? newest, newest);
      const bound = node.forgetBound(
        lastCompletedBatch,
        minRememberMs,
        neededAfter,
        remembered.get(node) ?? newest,
      );
      const forParents = node.clearMetadata(bound);
      const neededByParents = bound === neededAfter ? forParents : node.parentKeepAfter(neededAfter);
      oldest = Math.min(oldest, bound, forParents);
      for (const parent of node.dependencies) {
        lower(needed, parent, neededByParents);
        lower(remembered, parent, forParents);
      }
    }
    return oldest;
  }

  /** `streams` and every stream they read, directly or through others. */
  upstreamOf(streams: readonly DStream<any>[]): Set<DStream<any>> {
    const read = new Set<DStream<any>>(streams);
    // An explicit stack: a long chain of operators must not overflow the call stack.
    const stack: DStream<any>[] = [...streams];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      for (const parent of node.dependencies) {
        if (!read.has(parent)) {
          read.add(parent);
          stack.push(parent);
        }
      }
    }
    return read;
  }

  /**
   * Every node after every node that reads it. Creation order is not enough: an operator may create its own
   * parent after itself (reduceByKeyAndWindow's per-batch reduce).
   */
  private consumersFirst(): DStream<any>[] {
    const visited = new Set<DStream<any>>();
    const parentsFirst: DStream<any>[] = [];
    // An explicit stack: a long chain of operators must not overflow the call stack.
    for (const root of this.nodes) {
      if (visited.has(root)) continue;
      const stack: Array<{ node: DStream<any>; next: number }> = [{ node: root, next: 0 }];
      visited.add(root);
      while (stack.length > 0) {
        const top = stack[stack.length - 1]!; // the loop runs while the stack is not empty
        const parent = top.node.dependencies[top.next++];
        if (parent === undefined) {
          parentsFirst.push(top.node);
          stack.pop();
        } else if (!visited.has(parent)) {
          visited.add(parent);
          stack.push({ node: parent, next: 0 });
        }
      }
    }
    return parentsFirst.reverse();
  }
}
