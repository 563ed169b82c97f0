import { request } from 'undici';

/**
 * Labels for a synthetic population, drawn from its truth with some noise and recorded through
 * the real admin API, as the bank's channel and analysts would: cardholders answer some alerts
 * (a few answer wrongly), then analysts close most open cases (some inconclusive, a few wrong).
 * Used by `npm run eval:risk` and by the evaluation tests.
 */

export interface LabelPlan {
  /** Share of alerts the cardholder answers. */
  answerRate: number;
  /** Share of answers that are wrong (a cardholder who forgot, or did not read). */
  wrongAnswer: number;
  /** Share of open cases an analyst closes in the period. */
  closeRate: number;
  /** Share of closed cases closed as inconclusive. */
  inconclusive: number;
  /** Share of the other dispositions that are wrong. */
  wrongDisposition: number;
}

export const LABEL_PLAN: LabelPlan = {
  answerRate: 0.7,
  wrongAnswer: 0.03,
  closeRate: 0.9,
  inconclusive: 0.1,
  wrongDisposition: 0.03,
};

export interface LabelResult {
  answered: number;
  notRecognised: number;
  wrongAnswers: number;
  closed: number;
  wrongDispositions: number;
}

async function post(
  url: string,
  token: string,
  body: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await request(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? JSON.parse(text) : undefined };
}

async function get(url: string, token: string): Promise<unknown> {
  const res = await request(url, { headers: { authorization: `Bearer ${token}` } });
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode}`);
  return res.body.json();
}

/**
 * Answers alerts (channel token), then closes cases (analyst token), from `truth` (notification
 * id → fraud). `alerts` maps a notification to its sent alert.
 */
export async function labelPopulation(o: {
  adminUrl: string;
  channelToken: string;
  analystToken: string;
  truth: ReadonlyMap<string, boolean>;
  alerts: ReadonlyMap<string, string>;
  random: () => number;
  plan?: LabelPlan;
}): Promise<LabelResult> {
  const plan = o.plan ?? LABEL_PLAN;
  const r: LabelResult = {
    answered: 0,
    notRecognised: 0,
    wrongAnswers: 0,
    closed: 0,
    wrongDispositions: 0,
  };
  for (const [notificationId, alertId] of o.alerts) {
    const fraud = o.truth.get(notificationId);
    if (fraud === undefined || o.random() >= plan.answerRate) continue;
    const wrong = o.random() < plan.wrongAnswer;
    const answer = fraud !== wrong ? 'not_recognised' : 'recognised';
    const res = await post(`${o.adminUrl}/api/alerts/${alertId}/answer`, o.channelToken, {
      answer,
    });
    if (res.status !== 200) throw new Error(`answer ${alertId}: ${res.status}`);
    r.answered++;
    if (answer === 'not_recognised') r.notRecognised++;
    if (wrong) r.wrongAnswers++;
  }
  const open: { id: string }[] = [];
  for (let cursor: string | null = '0'; cursor !== null; ) {
    const page = (await get(
      `${o.adminUrl}/api/cases?limit=500&cursor=${cursor}`,
      o.analystToken,
    )) as { items: { id: string; status: string }[]; next: string | null };
    open.push(...page.items.filter((c) => c.status !== 'closed'));
    cursor = page.next;
  }
  for (const c of open) {
    if (o.random() >= plan.closeRate) continue;
    const detail = (await get(`${o.adminUrl}/api/cases/${c.id}`, o.analystToken)) as {
      attempts: { notificationId: string }[];
    };
    const fraud = detail.attempts.some((a) => o.truth.get(a.notificationId) === true);
    let disposition: 'confirmed_fraud' | 'legitimate' | 'inconclusive' = fraud
      ? 'confirmed_fraud'
      : 'legitimate';
    if (o.random() < plan.inconclusive) disposition = 'inconclusive';
    else if (o.random() < plan.wrongDisposition) {
      disposition = fraud ? 'legitimate' : 'confirmed_fraud';
      r.wrongDispositions++;
    }
    const res = await post(`${o.adminUrl}/api/cases/${c.id}/disposition`, o.analystToken, {
      disposition,
      note: 'Reviewed in the evaluation.',
    });
    if (res.status !== 200) throw new Error(`disposition ${c.id}: ${res.status}`);
    r.closed++;
  }
  return r;
}
