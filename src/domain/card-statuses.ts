/** A card's status in the bank's directory (`cardholders.status`). */
export const CARD_STATUSES = ['active', 'blocked', 'closed'] as const;
export type CardStatus = (typeof CARD_STATUSES)[number];
