import { describe, expect, it } from 'vitest';
import { cleanText, stripMarkup } from './clean-text.js';
import { filterReason, repetitionRatio } from './quality-filter.js';

describe('cleanText', () => {
  it('normalises to NFC', () => {
    const decomposed = 'cafe\u0301 A\u030A';
    expect(cleanText(decomposed)).toBe('caf\u00E9 \u00C5');
    expect(cleanText(decomposed, { nfc: false })).toBe(decomposed);
  });

  it('removes control and zero-width characters but keeps newlines', () => {
    expect(cleanText('a\u0000b\u0007c\u001Bd\u200Be\uFEFFf\u0085g\nh')).toBe('abcdefg\nh');
  });

  it('normalises line endings and whitespace', () => {
    expect(cleanText('  one\t\t two  \r\n\r\n\r\n\r\nthree \u00A0 four\rfive  ')).toBe('one two\n\nthree four\nfive');
  });

  it('strips markup: tags, comments, scripts, styles; decodes entities; keeps text comparisons', () => {
    const html =
      '<html><head><style>p{color:red}</style><script>var x = "<b>";</script></head><body><!-- note -->' +
      '<h1>Title</h1><p class="x">Fish &amp; chips &lt;3 &#8212; &#x2014; caf&eacute;</p><br/>end</body></html>';
    expect(cleanText(html)).toBe('Title\n\nFish & chips <3 \u2014 \u2014 caf&eacute;\n\nend');
    expect(stripMarkup('if a < b and c > d')).toBe('if a < b and c > d');
    expect(cleanText('<b>bold</b>', { stripMarkup: false })).toBe('<b>bold</b>');
  });
});

describe('filters', () => {
  it('measures repetition as the share of repeated word trigrams', () => {
    expect(repetitionRatio('the quick brown fox jumps over the lazy dog near the river bank today')).toBe(0);
    // 12 words, 10 trigrams: "a b c" "b c a" "c a b" then repeats -> 7 of 10 repeat.
    expect(repetitionRatio('a b c a b c a b c a b c')).toBeCloseTo(7 / 10);
    expect(repetitionRatio('too short to judge')).toBe(0);
  });

  it('gives the reason a document is dropped', () => {
    expect(filterReason('')).toBe('empty');
    expect(filterReason('short', { minChars: 10 })).toBe('too-short');
    expect(filterReason('x'.repeat(50), { maxChars: 40 })).toBe('too-long');
    expect(filterReason('buy now '.repeat(30))).toBe('repetitive');
    expect(filterReason('buy now '.repeat(30), { maxRepetition: 1 })).toBeUndefined();
    expect(filterReason('Call me Ishmael. Some years ago, never mind how long precisely.')).toBeUndefined();
  });
});
