import { createRequire } from 'node:module';

/** A sentiment lexicon from npm: a polarity score per text (> 0 positive). */
export interface LexiconPeer {
  /** npm package name. */
  readonly name: string;
  readonly version: string;
  /** Rule the score comes from, for the report. */
  readonly rule: string;
  score(text: string): number;
}

export type LexiconKind = 'vader' | 'afinn';

interface VaderModule {
  SentimentIntensityAnalyzer: { polarity_scores(text: string): { compound: number } };
}
type SentimentConstructor = new () => { analyze(text: string): { score: number } };

const require = createRequire(import.meta.url);

function version(name: string): string {
  return (require(`${name}/package.json`) as { version: string }).version;
}

/** Opens `vader-sentiment` (VADER compound score) or `sentiment` (AFINN-165 sum of word scores). */
export function openLexiconPeer(kind: LexiconKind): LexiconPeer {
  if (kind === 'vader') {
    const vader = require('vader-sentiment') as VaderModule;
    return {
      name: 'vader-sentiment',
      version: version('vader-sentiment'),
      rule: 'VADER compound score',
      score: (text) => vader.SentimentIntensityAnalyzer.polarity_scores(text).compound,
    };
  }
  const Sentiment = require('sentiment') as SentimentConstructor;
  const afinn = new Sentiment();
  return {
    name: 'sentiment',
    version: version('sentiment'),
    rule: 'AFINN-165 score sum',
    score: (text) => afinn.analyze(text).score,
  };
}
