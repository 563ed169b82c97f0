import type {
  CaseStatus,
  DeliveryStatus,
  Disposition,
  NotificationStatus,
  RiskLevel,
  Role,
} from './types';

/**
 * How the console names the values of the vocabulary's lists (src/domain/), in the order its
 * menus offer them. Keyed by the lists' types: a value added to a list fails the console's
 * typecheck until it has a name here.
 */

export const CASE_STATUS_LABELS: Record<CaseStatus, string> = {
  open: 'Open',
  in_review: 'In review',
  closed: 'Closed',
};

export const DISPOSITION_LABELS: Record<Disposition, string> = {
  confirmed_fraud: 'Confirmed fraud',
  legitimate: 'Legitimate',
  inconclusive: 'Inconclusive',
};

/** Highest first. */
export const LEVEL_LABELS: Record<RiskLevel, string> = {
  high: 'High',
  medium: 'Medium',
  low: 'Low',
};

export const NOTIFICATION_STATUS_LABELS: Record<NotificationStatus, string> = {
  accepted: 'Accepted',
  quarantined: 'Quarantined',
};

/** The dead-letter queue first: what an operator comes to the page for. */
export const DELIVERY_STATUS_LABELS: Record<DeliveryStatus, string> = {
  dead: 'Dead',
  failed: 'Retrying',
  pending: 'Pending',
  delivered: 'Delivered',
};

/** The roles the console signs in and adds: `channel` is an API token's only (the CLI's). */
export type ConsoleRole = Exclude<Role, 'channel'>;
export const CONSOLE_ROLE_LABELS: Record<ConsoleRole, string> = {
  viewer: 'viewer',
  analyst: 'analyst',
  admin: 'admin',
};
