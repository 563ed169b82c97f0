import type { Config } from '../config/config-schema.js';
import { levelAtLeast } from '../domain/risk-codes.js';
import type { Logger } from '../logger.js';
import { serviceMetrics } from '../metrics/service-metrics.js';
import type { DataProtector } from '../protect/data-protector.js';
import type { AlertDraft, AssessmentSubject, RiskStore } from '../storage/risk-store.js';
import { uuidV7 } from '../util/uuid-v7.js';
import { countEnrollers } from './count-enrollers.js';
import type { CardholderDirectory, DirectoryResult } from './directory/cardholder.js';
import { normaliseEmail, normalisePhone } from './match/contact-normalise.js';
import { assessRisk, type EngineResult } from './risk-engine.js';
import { emailOnFile, phoneOnFile, riskInputs } from './risk-inputs.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface RiskServiceOptions {
  store: RiskStore;
  directory: CardholderDirectory;
  dataProtector: DataProtector;
  settings: Config['risk'];
  logger: Logger;
  /**
   * Called after an assessment is stored (wakes the outbox worker: events wait for it, and its
   * alert, if any, is queued with it).
   */
  onAssessed?: () => void;
  now?: () => number;
}

/** What an assessment reads before it can tell whether it may run beside others. */
interface Loaded {
  id: string;
  subject: AssessmentSubject;
  emailHash: string | null;
  phoneHash: string | null;
}

/** Sweeps skipped in a row while this process has a backlog of its own (see `sweep`). */
const SWEEP_SKIPS_AT_MOST = 5;

/**
 * Assesses accepted notifications after Visa has had its 200: `schedule(id)` queues one (the
 * pipeline calls it after commit), a sweep at start and every `risk.sweep.intervalSeconds`
 * finds any left unassessed (the process died first, or another process accepted it). Queued
 * notifications are assessed `store.assessmentBatch` at a time (on SQLite 16, whose writes then
 * share one group commit: `npm run bench:stages` measured about 540 µs per assessment one at a
 * time and 230 µs in batches), and no more than the directory's `maxConcurrentLookups`. An
 * attempt that shares a card, an email or a phone with an earlier one of its batch waits for the
 * next batch, so each sees the assessments of those before it as one after another. A notification
 * assessed twice by two processes keeps the first result (the store's unique key decides).
 */
export class RiskService {
  readonly #o: RiskServiceOptions;
  readonly #now: () => number;
  /** Ids to load, or notifications loaded and deferred by an earlier batch (kept, not reloaded). */
  readonly #queue: (string | Loaded)[] = [];
  readonly #queued = new Set<string>();
  #draining: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #sweepsSkipped = 0;

  constructor(o: RiskServiceOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  /** Queues a notification for assessment; returns at once. */
  schedule(id: string): void {
    if (this.#stopped || this.#queued.has(id)) return;
    this.#queued.add(id);
    this.#queue.push(id);
    // setImmediate: the HTTP answer to Visa is written before any assessment work starts.
    this.#draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      this.#drain(),
    );
  }

  /** Resolves when the queue is empty. */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const size = Math.min(
          this.#o.store.assessmentBatch,
          this.#o.directory.maxConcurrentLookups,
        );
        const batch = this.#queue.splice(0, Math.max(1, size));
        const deferred = await this.#assessBatch(batch);
        // In their order, ahead of what was queued meanwhile; the first of a batch is never
        // deferred, so every batch makes progress.
        this.#queue.unshift(...deferred);
      }
    } finally {
      this.#draining = undefined;
    }
  }

  /**
   * Assesses `entries` together; returns those deferred, loaded. One is deferred when it shares a
   * card, an email or a phone with an earlier entry of the batch, whether that one runs now or is
   * deferred itself: so whatever follows a deferred attempt on its keys waits behind it, in order.
   */
  async #assessBatch(entries: readonly (string | Loaded)[]): Promise<Loaded[]> {
    const deferred: Loaded[] = [];
    const taken = new Set<string>();
    const ready: Loaded[] = [];
    for (const entry of entries) {
      const id = typeof entry === 'string' ? entry : entry.id;
      let loaded: Loaded | undefined;
      try {
        loaded = typeof entry === 'string' ? await this.#load(entry) : entry;
      } catch (error) {
        this.#failed(id, error);
        continue;
      }
      if (loaded === undefined) {
        this.#queued.delete(id);
        continue;
      }
      const { subject, emailHash, phoneHash } = loaded;
      const keys = [
        subject.panFingerprint === null ? undefined : `c:${subject.panFingerprint}`,
        emailHash === null ? undefined : `e:${emailHash}`,
        phoneHash === null ? undefined : `p:${phoneHash}`,
      ].filter((k) => k !== undefined);
      const conflicts = keys.some((k) => taken.has(k));
      for (const k of keys) taken.add(k);
      if (conflicts) deferred.push(loaded);
      else ready.push(loaded);
    }
    await Promise.all(
      ready.map(async (l) => {
        try {
          await this.#assessLoaded(l);
          this.#queued.delete(l.id);
        } catch (error) {
          this.#failed(l.id, error);
        }
      }),
    );
    return deferred;
  }

  /** Left unassessed: the next sweep retries it. */
  #failed(id: string, error: unknown): void {
    this.#queued.delete(id);
    this.#o.logger.error(
      { notificationId: id, errType: error instanceof Error ? error.name : typeof error },
      'risk assessment failed',
    );
  }

  /** Sweeps now, then every `risk.sweep.intervalSeconds`. */
  start(): void {
    this.#stopped = false;
    const tick = () => {
      this.sweep()
        .catch((error: unknown) =>
          this.#o.logger.error(
            { errType: error instanceof Error ? error.name : typeof error },
            'risk sweep failed',
          ),
        )
        .finally(() => {
          if (!this.#stopped)
            this.#timer = setTimeout(tick, this.#o.settings.sweep.intervalSeconds * 1000).unref();
        });
    };
    tick();
  }

  /**
   * Queues accepted notifications of the sweep horizon that have no assessment; returns how many.
   */
  async sweep(): Promise<number> {
    // With a backlog of its own, a sweep mostly finds the backlog of other processes sharing
    // the database, which they assess in the same order: both would do the same work and one
    // throw it away. So it waits, but never more than SWEEP_SKIPS_AT_MOST ticks in a row: what
    // only a sweep recovers (a crashed peer's notifications, this process's failed assessments)
    // must not wait for the load to end.
    if (this.#queue.length > 0 && this.#sweepsSkipped < SWEEP_SKIPS_AT_MOST) {
      this.#sweepsSkipped++;
      return 0;
    }
    this.#sweepsSkipped = 0;
    const { graceSeconds, horizonHours } = this.#o.settings.sweep;
    const now = this.#now();
    const ids = await this.#o.store.unassessed(
      now - horizonHours * HOUR,
      now - graceSeconds * 1000,
      1000,
    );
    for (const id of ids) this.schedule(id);
    if (ids.length > 0)
      this.#o.logger.info({ count: ids.length }, 'risk sweep queued unassessed notifications');
    return ids.length;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.idle();
    await this.#o.directory.close();
  }

  /** Assesses one notification now (no-op when it is not accepted or already assessed). */
  async assess(id: string): Promise<EngineResult | undefined> {
    const loaded = await this.#load(id);
    return loaded === undefined ? undefined : this.#assessLoaded(loaded);
  }

  /** The notification and its contact hashes; undefined when there is nothing to assess. */
  async #load(id: string): Promise<Loaded | undefined> {
    const { store, dataProtector: dp, settings } = this.#o;
    const subject = await store.loadSubject(id);
    if (subject === undefined || subject.status !== 'accepted' || (await store.isAssessed(id)))
      return undefined;
    const email = normaliseEmail(subject.contactEmail);
    const phone = normalisePhone(subject.phoneNumber, settings.defaultCountry);
    return {
      id,
      subject,
      emailHash: email === undefined ? null : dp.keyedHash('email', email),
      phoneHash: phone === undefined ? null : dp.keyedHash('phone', phone),
    };
  }

  async #assessLoaded({ id, subject, emailHash, phoneHash }: Loaded) {
    const { store, settings, logger } = this.#o;
    const directory = await this.#lookup(subject);
    const known = { attempt: subject, directory, settings };
    const emailKnown = emailOnFile(known) ?? null;
    const phoneKnown = phoneOnFile(known) ?? null;
    const history = await this.#history(subject, emailHash, phoneHash, emailKnown, phoneKnown);
    const inputs = riskInputs({ ...known, history });
    const result = assessRisk({ inputs, settings });

    const alert = this.#alertDraft(subject, directory, result);
    const cases = settings.cases;
    // A case opens at cases.minLevel; storage also joins this attempt to the card's open case
    // whatever its level, in the assessment's own transaction (a crash cannot lose a case).
    const caseDraft = cases.enabled
      ? {
          id: uuidV7(this.#now()),
          opens: levelAtLeast(result.level, cases.minLevel),
          panLast4: subject.panLast4,
        }
      : undefined;
    const saved = await store.saveAssessment(
      {
        notificationId: id,
        receivedAt: subject.receivedAt,
        assessedAt: this.#now(),
        cardFingerprint: subject.panFingerprint,
        emailHash,
        phoneHash,
        emailOnFile: emailKnown,
        phoneOnFile: phoneKnown,
        score: result.score,
        level: result.level,
        reasons: result.reasons,
        shadow: result.shadow,
        directory: directory.kind,
        inputs,
      },
      alert,
      caseDraft,
    );
    if (!saved.saved) return undefined;
    serviceMetrics().riskAssessments.inc({ level: result.level });
    logger.info(
      {
        notificationId: id,
        score: result.score,
        level: result.level,
        codes: result.reasons.map((r) => r.code),
        alert: saved.alert,
        caseId: saved.caseId ?? undefined,
      },
      'risk assessed',
    );
    if (result.shadow.length > 0) {
      logger.info(
        {
          notificationId: id,
          shadow: result.shadow.map((s) => ({ code: s.code, points: s.points, detail: s.detail })),
          level: result.level,
          wouldBeScore: result.wouldBe.score,
          wouldBeLevel: result.wouldBe.level,
        },
        'risk shadow rules',
      );
    }
    this.#o.onAssessed?.();
    return result;
  }

  async #lookup(subject: AssessmentSubject): Promise<DirectoryResult> {
    const { directory, dataProtector } = this.#o;
    if (subject.panFingerprint === null) return { kind: 'unknown' };
    let pan: string | undefined;
    if (directory.wantsCardNumber && subject.panCiphertext !== null && subject.dataKeyId !== null) {
      pan = dataProtector
        .decrypt(subject.dataKeyId, subject.panCiphertext, subject.dedupKey)
        .toString('ascii');
    }
    return directory.lookup(subject.panFingerprint, pan);
  }

  async #history(
    s: AssessmentSubject,
    emailHash: string | null,
    phoneHash: string | null,
    emailKnown: boolean | null,
    phoneKnown: boolean | null,
  ) {
    const { store, settings } = this.#o;
    const t = s.receivedAt;
    const fp = s.panFingerprint;
    const ringSince = t - settings.ring.windowDays * DAY;
    // A contact that is the card's own on file is no ring member here, whatever other cards saw.
    const ring = async (kind: 'email' | 'phone', hash: string | null, known: boolean | null) =>
      hash === null || known === true
        ? 0
        : (await store.otherCardsSharing(kind, hash, ringSince, t, fp)) + (fp === null ? 0 : 1);
    if (fp === null) {
      return {
        attempts24h: 1,
        attempts7d: 1,
        enrollers7d: 1,
        cardsByEmail: await ring('email', emailHash, emailKnown),
        cardsByPhone: await ring('phone', phoneHash, phoneKnown),
      };
    }
    const [attempts24h, attempts7d, keys, cardsByEmail, cardsByPhone] = await Promise.all([
      store.countAttempts(fp, s.eventType, t - DAY, t),
      store.countAttempts(fp, s.eventType, t - 7 * DAY, t),
      store.enrollerKeys(fp, t - 7 * DAY, t, s.id),
      ring('email', emailHash, emailKnown),
      ring('phone', phoneHash, phoneKnown),
    ]);
    return {
      attempts24h,
      attempts7d,
      enrollers7d: countEnrollers([...keys, { emailHash, phoneHash }]),
      cardsByEmail,
      cardsByPhone,
    };
  }

  #alertDraft(
    s: AssessmentSubject,
    directory: DirectoryResult,
    result: EngineResult,
  ): AlertDraft | undefined {
    const alert = this.#o.settings.alert;
    if (alert === undefined || !levelAtLeast(result.level, alert.minLevel)) return undefined;
    const id = uuidV7(this.#now());
    let recipient: AlertDraft['recipient'] = null;
    let language: string | null = null;
    if (directory.kind === 'found') {
      const c = directory.cardholder;
      language = c.language;
      const usable =
        alert.sink.type === 'email' ? c.emails.length > 0 : c.emails.length + c.phones.length > 0;
      if (usable) {
        const json = JSON.stringify({
          firstName: c.firstName,
          lastName: c.lastName,
          emails: c.emails,
          phones: c.phones,
        });
        recipient = {
          dataKeyId: this.#o.dataProtector.activeKeyId,
          ciphertext: this.#o.dataProtector.encrypt(Buffer.from(json, 'utf8'), id),
        };
      }
    }
    return {
      id,
      notificationId: s.id,
      cardFingerprint: s.panFingerprint,
      createdAt: this.#now(),
      receivedAt: s.receivedAt,
      level: result.level,
      language,
      panLast4: s.panLast4,
      recipient,
      windowMs: alert.windowSeconds * 1000,
    };
  }
}
