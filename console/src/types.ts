/**
 * The admin API's JSON, as the console reads it: the `Static` types of the TypeBox schemas the
 * server validates and documents its responses with (src/api/api-schemas.ts), so the two cannot
 * drift; the words of its lists (statuses, levels, roles…) are the vocabulary's types
 * (src/domain/). Type-only imports: esbuild drops them and no server code reaches the bundle.
 */
import type { Static } from '@sinclair/typebox';
import type * as Api from '../../src/api/api-schemas';

export type { CaseStatus, Disposition } from '../../src/domain/case-codes';
export type { DeliveryStatus } from '../../src/domain/delivery-codes';
export type { NotificationStatus } from '../../src/domain/notification-statuses';
export type { RiskCode, RiskLevel } from '../../src/domain/risk-codes';
export type { Role } from '../../src/domain/roles';

export type NotificationItem = Static<typeof Api.NotificationItem>;
export type NotificationDetail = Static<typeof Api.NotificationDetail>;
/** A cursor-paged list (`Page` in the API schemas) of `T`. */
export type Page<T> = Omit<Static<ReturnType<typeof Api.Page>>, 'items'> & { items: T[] };
export type AuditItem = Static<typeof Api.AuditItem>;
export type KeyItem = Static<typeof Api.KeyItem>;
export type Stats = Static<typeof Api.Stats>;
export type OperatorItem = Static<typeof Api.OperatorItem>;
export type DeliveryItem = Static<typeof Api.DeliveryItem>;
export type SinkItem = Static<typeof Api.SinkItem>;
export type CaseItem = Static<typeof Api.CaseItem>;
export type CaseDetail = Static<typeof Api.CaseDetail>;
export type EvaluationReport = Static<typeof Api.EvaluationReport>;
