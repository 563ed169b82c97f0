import type { RiskRule } from './risk-rule.js';

/**
 * The directory's view of the card: unknown to the bank (CARD_UNKNOWN), not active
 * (CARD_NOT_ACTIVE, detail `status=blocked|closed`), or the directory did not answer in time
 * (DIRECTORY_UNAVAILABLE, detail `cause=timeout|error elapsedMs=N`: the attempt is still
 * assessed on everything else).
 */
export const cardStatusRule: RiskRule = {
  name: 'card-status',
  codes: ['CARD_UNKNOWN', 'CARD_NOT_ACTIVE', 'DIRECTORY_UNAVAILABLE'],
  evaluate({ inputs }) {
    switch (inputs.directory) {
      case 'unknown':
        return [{ code: 'CARD_UNKNOWN', detail: 'directory=unknown' }];
      case 'unavailable':
        return [
          {
            code: 'DIRECTORY_UNAVAILABLE',
            detail: `cause=${inputs.directoryCause ?? 'error'} elapsedMs=${inputs.directoryMs ?? 0}`,
          },
        ];
      case 'found':
        return inputs.cardStatus === 'active' || inputs.cardStatus === null
          ? []
          : [{ code: 'CARD_NOT_ACTIVE', detail: `status=${inputs.cardStatus}` }];
    }
  },
};
