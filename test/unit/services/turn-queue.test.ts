import { describe, expect, it } from 'vitest';
import { turnQueue } from '../../../src-main/services/turn-queue';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('turn queue', () => {
  it('runs what a turn queued after that turn, in order, each item once', async () => {
    const seen: number[] = [];
    const queue = turnQueue<number>((n) => seen.push(n));
    queue.push(1);
    queue.push(2);
    expect(seen).toEqual([]);
    await nextTurn();
    expect(seen).toEqual([1, 2]);
    queue.push(3);
    await nextTurn();
    await nextTurn();
    expect(seen).toEqual([1, 2, 3]);
  });

  it('handles every item even when one throws, then throws that error', () => {
    const seen: number[] = [];
    const queue = turnQueue<number>((n) => {
      seen.push(n);
      if (n === 1) throw new Error('item 1 failed');
    });
    queue.push(1);
    queue.push(2);
    expect(() => queue.drain()).toThrow('item 1 failed');
    expect(seen).toEqual([1, 2]);
  });

  it('runs what is queued at once when drained, and not again after the turn', async () => {
    const seen: string[] = [];
    const queue = turnQueue<string>((s) => seen.push(s));
    queue.push('a');
    queue.drain();
    expect(seen).toEqual(['a']);
    queue.push('b');
    await nextTurn();
    expect(seen).toEqual(['a', 'b']);
  });
});
