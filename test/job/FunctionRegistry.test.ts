import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobValidationError } from '../../lib/errors';
import { FunctionRegistry } from '../../lib/job/FunctionRegistry';
import { fixturesDir } from './fixtures/jobs';

/** The issues of a `JobValidationError` thrown by `f`; fails the test when `f` throws nothing or something else. */
function issuesThrownBy(f: () => unknown) {
  try {
    f();
  } catch (error) {
    if (error instanceof JobValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a JobValidationError');
}

describe('FunctionRegistry', () => {
  it('resolves built-ins, registered functions and factories with their args', () => {
    // given a registry with a function and a factory of its own
    const registry = new FunctionRegistry()
      .register('double', (x: number) => x * 2)
      .registerFactory('times', (args) => (x: number) => x * (args.factor as number));
    // when names are resolved
    const double = registry.resolve('double', undefined, 'p.fn');
    const times = registry.resolve('times', { factor: 3 }, 'p.fn');
    const words = registry.resolve('splitWords', undefined, 'p.fn');
    // then each is the function it names
    expect(double(2)).toBe(4);
    expect(times(2)).toBe(6);
    expect(words('a b')).toEqual(['a', 'b']);
    expect(registry.has('times')).toBe(true);
    expect(registry.names).toContain('double');
  });

  it('reports an unknown name at the given path with close and available names', () => {
    // given a registry of built-ins
    const registry = new FunctionRegistry();
    // when a misspelt name is resolved
    const issues = issuesThrownBy(() => registry.resolve('hashtag', undefined, 'streams.t.ops[0].fn'));
    // then the issue is at the path and lists the close and the available names
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('streams.t.ops[0].fn');
    expect(issues[0]?.value).toBe('hashtag');
    expect(issues[0]?.message).toMatch(
      /unknown function "hashtag"; did you mean "hashtags"\? Known: .*splitWords/,
    );
  });

  it('rejects args for a plain function and args a factory rejects', () => {
    // given the built-ins
    const registry = new FunctionRegistry();
    // when args are given to splitWords, and bad args to field
    const plain = issuesThrownBy(() => registry.resolve('splitWords', { x: 1 }, 'a.fn'));
    const factory = issuesThrownBy(() => registry.resolve('field', {}, 'b.fn'));
    // then both are reported at their paths
    expect(plain[0]).toEqual({
      path: 'a.fn',
      message: 'function "splitWords" takes no args',
      value: { x: 1 },
    });
    expect(factory[0]?.path).toBe('b.fn');
    expect(factory[0]?.message).toMatch(/^function "field": field needs args.field/);
  });

  it('lets a registration replace a built-in, and a function replace a factory', () => {
    // given a registry where sum and field are replaced
    const registry = new FunctionRegistry()
      .register('sum', () => 'mine')
      .register('field', () => 'plain now');
    // when they are resolved, then the replacements come back
    expect(registry.resolve('sum', undefined, 'p')()).toBe('mine');
    expect(registry.resolve('field', undefined, 'p')()).toBe('plain now');
    expect(registry.names.filter((n) => n === 'field')).toHaveLength(1);
  });

  it('starts empty when asked to, and refuses names and values that are not usable', () => {
    // given an empty registry
    const registry = new FunctionRegistry({ builtins: false });
    // when it is read and misused, then it holds nothing and says why it refuses
    expect(registry.names).toEqual([]);
    expect(() => registry.register('', () => 1)).toThrow(TypeError);
    expect(() => registry.register('x', 3 as never)).toThrow('function "x" must be a function, got number');
  });

  it('knows the kind of built-ins and of functions registered with one, and forgets it on replacement', () => {
    // given the built-ins, a function registered as a reducer, and sum replaced without a kind
    const registry = new FunctionRegistry()
      .register('minus', (a: number, b: number) => a - b, 'reducer')
      .register('sum', (a: number, b: number) => a + b);
    // when kinds are read, then each is as registered
    expect(registry.kindOf('subtract')).toBe('reducer');
    expect(registry.kindOf('countState')).toBe('update');
    expect(registry.kindOf('sessionCount')).toBe('mapWithState');
    expect(registry.kindOf('field')).toBe('record');
    expect(registry.kindOf('minus')).toBe('reducer');
    expect(registry.kindOf('sum')).toBeUndefined();
    expect(() => registry.register('y', () => 1, 'nope' as never)).toThrow('unknown function kind nope');
  });

  it('resolves a name of the kind a field needs, and reports one of another kind at the path', () => {
    // given the built-ins
    const registry = new FunctionRegistry();
    // when a reducer and a record function are resolved where a reducer is needed
    expect(registry.resolveKind('subtract', undefined, 'p.invFn', 'reducer')(5, 2)).toBe(3);
    const issues = issuesThrownBy(() => registry.resolveKind('hashtags', undefined, 'p.invFn', 'reducer'));
    // then the second is reported, listing the reducers
    expect(issues).toEqual([
      {
        path: 'p.invFn',
        message:
          '"hashtags" is a record function, but this field needs a reducer (a, b) => value, such as concat, count, max, min, subtract, sum',
        value: 'hashtags',
      },
    ]);
  });

  it('takes a function of several kinds in a field of any of them, and names it by its first', () => {
    // given the built-in identity, a no-op on partitions and datasets too, and a function registered as two kinds
    const registry = new FunctionRegistry().register('both', (x: unknown) => x, ['transform', 'foreachRDD']);
    // when they are resolved where one of their kinds, or another, is needed
    expect(registry.resolveKind('identity', undefined, 'p.fn', 'partition')).toBeTypeOf('function');
    expect(registry.resolveKind('both', undefined, 'p.fn', 'foreachRDD')).toBeTypeOf('function');
    const issues = issuesThrownBy(() => registry.resolveKind('both', undefined, 'p.fn', 'partition'));
    // then only the other kind is refused, pointing to the functions module when no built-in is of that kind
    expect(registry.kindOf('identity')).toBe('record');
    expect(issues).toEqual([
      {
        path: 'p.fn',
        message:
          '"both" is a transform function (dataset, batchTime) => dataset, but this field needs a mapPartitions function (records, partition, fail) => records; export one from the job\'s "functions" module',
        value: 'both',
      },
    ]);
    expect(() => registry.register('z', () => 1, ['record', 'nope' as never])).toThrow(
      'unknown function kind nope',
    );
  });
});

describe('FunctionRegistry.expression', () => {
  it('evaluates a JSONata expression on the record bound to $', async () => {
    // given an expression over a tweet
    const registry = new FunctionRegistry();
    const f = registry.expression('[user, $length(text)]', 'streams.s.ops[0].expr');
    // when it is applied, then it yields a promise of the result
    await expect(f({ user: 'u1', text: 'abc' })).resolves.toEqual(['u1', 3]);
    await expect(f({})).resolves.toEqual([]);
  });

  it('reports a syntax error at its path when compiled', () => {
    // given a broken expression
    const registry = new FunctionRegistry();
    // when it is compiled
    const issues = issuesThrownBy(() => registry.expression('$split($, ', 'streams.s.ops[2].expr'));
    // then the issue is at the expr path with the expression as value
    expect(issues[0]?.path).toBe('streams.s.ops[2].expr');
    expect(issues[0]?.message).toMatch(/^JSONata syntax error/);
    expect(issues[0]?.value).toBe('$split($, ');
  });

  it('rejects with an Error naming the path when a record cannot be evaluated', async () => {
    // given an expression that adds to a field
    const f = new FunctionRegistry().expression('n + 1', 'streams.s.ops[0].expr');
    // when a record holds a string there, then an Error (which the engine dead-letters) names the path
    await expect(f({ n: 'x' })).rejects.toThrow(
      /^the expression at streams.s.ops\[0\].expr failed: The left side of the "\+" operator must evaluate to a number \(T2001\)$/,
    );
    await expect(f({ n: 'x' })).rejects.toBeInstanceOf(Error);
  });
});

describe('FunctionRegistry.loadModule', () => {
  it('registers exported functions, then what register(registry) adds or replaces', async () => {
    // given the fixture module
    const registry = new FunctionRegistry();
    // when it is loaded
    await registry.loadModule(join(fixturesDir, 'userFunctions.ts'));
    // then plain exports, the factory and the replacement are there, and non-functions are not
    expect(registry.resolve('shout', undefined, 'p')('hi')).toBe('HI');
    expect(registry.resolve('prefix', { text: '> ' }, 'p')('hi')).toBe('> hi');
    expect(registry.resolve('identity', undefined, 'p')(1)).toEqual({ wrapped: 1 });
    expect(registry.has('onlyStrings')).toBe(true);
    expect(registry.has('answer')).toBe(false);
    expect(registry.has('register')).toBe(false);
  });

  it('reports a module that cannot be loaded at the functions path', async () => {
    // given a path with no module
    const registry = new FunctionRegistry();
    // when it is loaded, then the job's functions field is at fault
    const error = await registry.loadModule(join(fixturesDir, 'missing.ts')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobValidationError);
    expect((error as JobValidationError).issues[0]?.path).toBe('functions');
    expect((error as JobValidationError).issues[0]?.message).toMatch(
      /^cannot load the functions module .*missing\.ts/,
    );
  });
});
