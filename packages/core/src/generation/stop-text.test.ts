import { describe, expect, it } from 'vitest';
import { StopTextMatcher } from './stop-text.js';

describe('StopTextMatcher', () => {
  it('holds back a possible stop prefix and drops the stop string', () => {
    const m = new StopTextMatcher(['\nUser:']);
    expect(m.push('Hello')).toBe('Hello');
    expect(m.push(' there\n')).toBe(' there');
    expect(m.push('Us')).toBe('');
    expect(m.push('er: hi')).toBe('');
    expect(m.stopped).toBe(true);
    expect(m.matched).toBe('\nUser:');
    expect(m.flush()).toBe('');
  });
  it('releases held text when the stop does not complete', () => {
    const m = new StopTextMatcher(['END']);
    expect(m.push('the EN')).toBe('the ');
    expect(m.push('D')).toBe('');
    expect(m.stopped).toBe(true);
    const n = new StopTextMatcher(['END']);
    expect(n.push('EN')).toBe('');
    expect(n.push('emy')).toBe('ENemy');
    expect(n.push('E')).toBe('');
    expect(n.flush()).toBe('E');
  });
  it('picks the earliest of several stops', () => {
    const m = new StopTextMatcher(['b', 'cd']);
    expect(m.push('acdb')).toBe('a');
    expect(m.matched).toBe('cd');
  });
});
