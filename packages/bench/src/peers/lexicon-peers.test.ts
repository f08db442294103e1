import { describe, expect, it } from 'vitest';
import { openLexiconPeer } from './lexicon-peers.js';

describe('lexicon peers (the npm packages themselves)', () => {
  it.each(['vader', 'afinn'] as const)('%s scores clear sentiment with the right sign', (kind) => {
    const peer = openLexiconPeer(kind);
    expect(peer.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(peer.score('a wonderful , great and beautiful film')).toBeGreaterThan(0);
    expect(peer.score('an awful , terrible and boring mess')).toBeLessThan(0);
    expect(peer.score('the')).toBe(0);
  });
});
