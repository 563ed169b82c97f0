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
  evaluate({ directory }) {
    switch (directory.kind) {
      case 'unknown':
        return [{ code: 'CARD_UNKNOWN', detail: 'directory=unknown' }];
      case 'unavailable':
        return [
          {
            code: 'DIRECTORY_UNAVAILABLE',
            detail: `cause=${directory.reason} elapsedMs=${Math.round(directory.elapsedMs)}`,
          },
        ];
      case 'found':
        return directory.cardholder.status === 'active'
          ? []
          : [{ code: 'CARD_NOT_ACTIVE', detail: `status=${directory.cardholder.status}` }];
    }
  },
};
