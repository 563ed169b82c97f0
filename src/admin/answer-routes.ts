import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AnswerBody, AnswerResult, ErrorBody } from '../api/api-schemas.js';
import { presentAnswer } from '../presenters/case-presenter.js';
import type { AnswerRefusal } from '../storage/case-records.js';
import { uuidV7 } from '../util/uuid-v7.js';
import type { AdminContext } from './admin-context.js';
import { audit, errorBody } from './auth.js';

const AlertParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) });

const STATUS: Record<AnswerRefusal, number> = {
  ALERT_NOT_FOUND: 404,
  ALERT_ALREADY_ANSWERED: 409,
  ALERT_EXPIRED: 410,
};
const MESSAGE: Record<AnswerRefusal, string> = {
  ALERT_NOT_FOUND: 'no alert with that id was sent',
  ALERT_ALREADY_ANSWERED: 'this alert has an answer already',
  ALERT_EXPIRED: 'the alert is older than risk.alert.answerWindowHours',
};

/**
 * The cardholder's answer to "was this you?", reported by the bank's app or messaging system
 * with a `channel` operator's API token (and by nothing else).
 */
export async function answerRoutes(app: FastifyInstance, ctx: AdminContext): Promise<void> {
  app.post<{ Params: Static<typeof AlertParams>; Body: Static<typeof AnswerBody> }>(
    '/api/alerts/:id/answer',
    {
      config: { channelOnly: true },
      schema: {
        summary: "Record the cardholder's answer to an alert (channel tokens only)",
        description:
          'One answer per alert: a second one is refused (409 ALERT_ALREADY_ANSWERED), not replaced. ' +
          '`not_recognised` opens or escalates the fraud case of the card whatever the score, and queues a ' +
          '`ctp.cardholder_answer` event to every sink; `recognised` is recorded on the case (and closes it as ' +
          'legitimate with risk.cases.closeOnRecognised). Unknown or never-sent alerts: 404 ALERT_NOT_FOUND; ' +
          'older than risk.alert.answerWindowHours: 410 ALERT_EXPIRED.',
        tags: ['alerts'],
        params: AlertParams,
        body: AnswerBody,
        response: { 200: AnswerResult, 404: ErrorBody, 409: ErrorBody, 410: ErrorBody },
      },
    },
    async (req, reply) => {
      const now = ctx.now();
      const hours = ctx.config.risk.alert?.answerWindowHours ?? 168;
      const out = await ctx.cases.answer({
        alertId: req.params.id,
        scope: req.operator!.scope,
        answer: req.body.answer,
        at: now,
        by: req.operator!.name,
        windowMs: hours * 3_600_000,
        closeOnRecognised: ctx.config.risk.cases.closeOnRecognised,
        cases: ctx.config.risk.cases.enabled,
        newCaseId: uuidV7(now),
      });
      if (!out.ok) {
        await audit(ctx, req, {
          action: 'alert.answer',
          target: req.params.id,
          outcome: 'denied',
          detail: { code: out.code, answer: req.body.answer },
        });
        return reply.code(STATUS[out.code]).send(errorBody(out.code, MESSAGE[out.code]));
      }
      await audit(ctx, req, {
        action: 'alert.answer',
        target: req.params.id,
        outcome: 'ok',
        detail: { answer: out.answer, caseId: out.caseId, events: out.events },
      });
      ctx.logger.info(
        {
          alertId: out.alertId,
          notificationId: out.notificationId,
          answer: out.answer,
          caseId: out.caseId,
          events: out.events,
        },
        'cardholder answered',
      );
      return presentAnswer(out);
    },
  );
}
