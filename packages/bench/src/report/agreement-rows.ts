import { pooledAgreement } from '../metrics/agreement.js';
import type { AgreementRow, CellResult } from '../runner/result-types.js';

/**
 * For each (model, generate scenario), compares every backend's greedy tokens with the reference backend's
 * (the same prompts): pooled share of identical tokens and mean prefix share.
 */
export function tokenAgreementRows(cells: readonly CellResult[], reference: string): AgreementRow[] {
  const rows: AgreementRow[] = [];
  const withTokens = cells.filter(
    (c) => c.status === 'ok' && c.scenarioType === 'generate' && c.tokens && c.tokens.length > 0,
  );
  for (const ref of withTokens.filter((c) => c.backend === reference)) {
    for (const other of withTokens) {
      if (other.backend === reference || other.model !== ref.model || other.scenario !== ref.scenario) continue;
      const a = ref.tokens ?? [];
      const b = other.tokens ?? [];
      if (a.length !== b.length) continue;
      const agreement = pooledAgreement(a.map((seq, i) => [seq, b[i]] as const));
      rows.push({
        model: ref.model,
        scenario: ref.scenario,
        reference,
        backend: other.backend,
        tokenAgreement: agreement.tokenAgreement,
        prefixAgreement: agreement.prefixAgreement,
        firstDivergence: agreement.firstDivergence,
      });
    }
  }
  return rows;
}
