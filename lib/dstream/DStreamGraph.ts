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

  /** Validates the graph and sets start time and remember durations, before the first batch. */
  start(zeroTime: number, minRememberMs = 0): void {
    if (this.started) return;
    if (this.outputs.length === 0) {
      throw new StreamGraphError(
        'the job has no output operation: add print, saveAsTextFiles, foreachRDD or jsonl',
      );
    }
    for (const output of this.outputs) output.validateAtStart();
    for (const output of this.outputs) output.initialize(zeroTime);
    for (const output of this.outputs) output.remember(minRememberMs);
    this.started = true;
  }

  /**
   * The shape of the graph: node ids, kinds and slides. A checkpoint resumes only into a graph of the same
   * shape; functions may change.
   */
  signature(): string {
    return this.nodes.map((n) => `${n.id}:${n.constructor.name}:${n.slideMs}`).join(',');
  }

  /** Forgets the datasets no stream needs after `batchTime`. */
  clearMetadata(batchTime: number): void {
    for (const output of this.outputs) output.clearMetadata(batchTime);
  }
}
