export interface NotificationItem {
  id: string;
  receivedAt: string;
  tokenRequestorId: string;
  eventType: string;
  status: 'accepted' | 'quarantined';
  reason: string | null;
  reasonFields: string[] | null;
  tsp: string | null;
  maskedPan: string | null;
  panBin: string | null;
  panLast4: string | null;
  panLuhnValid: boolean | null;
  panFingerprint: string | null;
  enroller: { firstName: string | null; lastName: string | null; contactEmail: string | null; phoneNumber: string | null };
  visaAttempts: number;
  risk: Risk | null;
}

export interface Risk {
  score: number;
  level: 'low' | 'medium' | 'high';
  reasons: { code: string; detail: string }[];
  shadow: { code: string; detail: string; points: number }[];
  directory: string;
  assessedAt: string;
}

export interface NotificationDetail extends NotificationItem {
  jwsKid: string | null;
  jweKid: string | null;
  updatedAt: string;
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface AuditItem {
  seq: number;
  at: string;
  actor: string;
  actorRole: string | null;
  action: string;
  target: string | null;
  outcome: string;
  address: string | null;
  detail: Record<string, unknown> | null;
}

export interface KeyItem {
  id: string;
  use: string;
  subject: string | null;
  notAfter: string | null;
  daysLeft: number | null;
  status: 'ok' | 'expiring' | 'expired' | 'unknown' | 'n/a';
  note: string | null;
}

export interface Stats {
  since: string;
  hours: { hour: string; accepted: number; quarantined: number }[];
  totals: { received: number; accepted: number; quarantined: number };
  quarantineQueue: { reason: string; count: number }[];
  keys: { expiring: number; expired: number };
  risk: { low: number; medium: number; high: number };
  deliveries: { pending: number; retrying: number; dead: number };
}

export interface OperatorItem {
  name: string;
  role: string;
  createdAt: string;
  disabledAt: string | null;
  lastLoginAt: string | null;
}

export interface DeliveryItem {
  id: string;
  notificationId: string;
  sink: string;
  origin: string;
  status: 'pending' | 'failed' | 'delivered' | 'dead';
  attempts: number;
  createdAt: string;
  updatedAt: string;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  lastError: string | null;
  lastStatus: number | null;
  inFlight: boolean;
}

export interface SinkItem {
  name: string;
  type: string;
  target: string;
  includePan: boolean;
  disabledAt: string | null;
  disabledReason: string | null;
  counts: { pending: number; failed: number; delivered: number; dead: number };
  oldestOpenAt: string | null;
}
