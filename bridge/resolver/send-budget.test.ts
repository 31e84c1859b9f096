import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SendBudget, type Holding } from './send-budget.ts';

beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

function holding(budget: SendBudget, bytes: number, evicted: string[], name: string): Holding {
  const h: Holding = {
    since: Date.now(),
    evict: () => {
      evicted.push(name);
      budget.give(h);
    },
  };
  budget.take(h, bytes);
  return h;
}

describe('SendBudget', () => {
  it('lets the first state through whatever its size, then queues until bytes come back', () => {
    const budget = new SendBudget(100, 1_000);
    expect(budget.hasRoom()).toBe(true);
    const a = holding(budget, 500, [], 'a');
    expect(budget.hasRoom()).toBe(false);
    const woken: string[] = [];
    budget.wait(() => woken.push('b'));
    budget.wait(() => woken.push('c'));
    expect(woken).toEqual([]);
    budget.give(a);
    // Nothing was taken by the woken, so both go, oldest first.
    expect(woken).toEqual(['b', 'c']);
    expect(budget.used).toBe(0);
  });

  it('keeps waiters in order and stops waking once a woken stream fills the budget', () => {
    const budget = new SendBudget(100, 1_000);
    const a = holding(budget, 100, [], 'a');
    const woken: string[] = [];
    budget.wait(() => {
      woken.push('b');
      holding(budget, 100, [], 'b');
    });
    budget.wait(() => woken.push('c'));
    // A newcomer does not overtake those already waiting.
    expect(budget.hasRoom()).toBe(false);
    budget.give(a);
    expect(woken).toEqual(['b']);
    expect(budget.used).toBe(100);
  });

  it('evicts holders older than the pressure time only while others wait', () => {
    const budget = new SendBudget(100, 1_000);
    const evicted: string[] = [];
    holding(budget, 100, evicted, 'old');
    vi.advanceTimersByTime(5_000);
    expect(evicted).toEqual([]);
    const woken: string[] = [];
    budget.wait(() => {
      woken.push('w');
      holding(budget, 100, evicted, 'w');
    });
    expect(evicted).toEqual(['old']);
    expect(woken).toEqual(['w']);
    // The state just written is not evicted in the same pass, nor before it has aged.
    budget.wait(() => woken.push('x'));
    expect(evicted).toEqual(['old']);
    vi.advanceTimersByTime(999);
    expect(evicted).toEqual(['old']);
    vi.advanceTimersByTime(1);
    expect(evicted).toEqual(['old', 'w']);
    expect(woken).toEqual(['w', 'x']);
  });

  it('never evicts with an infinite pressure time', () => {
    const budget = new SendBudget(1, Infinity);
    const evicted: string[] = [];
    holding(budget, 10, evicted, 'a');
    budget.wait(() => undefined);
    vi.advanceTimersByTime(3_600_000);
    expect(evicted).toEqual([]);
  });
});
