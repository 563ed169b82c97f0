import { escapeHtml, signInPage as page } from './login-page.js';

const codeForm = `<form method="post" action="/login/mfa" autocomplete="off">
    <label for="code">Code</label>
    <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus>
    <button type="submit" class="btn btn-primary btn-block">Verify</button>
  </form>`;

const alert = (message: string | undefined) =>
  message ? `<div class="alert alert-error" role="alert">${escapeHtml(message)}</div>` : '';

/** Asks for the code of the operator's authenticator app, or a recovery code. */
export function codePage(message?: string): string {
  return page(
    'Second factor',
    `  <h1 id="mfa-code">Enter your code</h1>
  <p class="muted">The 6-digit code from your authenticator app, or one of your recovery codes.</p>
  ${alert(message)}
  ${codeForm}`,
  );
}

/** Shows a new secret as a QR code (and as text), and asks for a code to prove it was saved. */
export function enrolPage(o: { qrSvg: string; secret: string; message?: string }): string {
  return page(
    'Set up a second factor',
    `  <h1 id="mfa-enrol">Set up your second factor</h1>
  <p class="muted">Scan this with an authenticator app, then enter the code it shows.</p>
  <div class="qr">${o.qrSvg}</div>
  <p class="fineprint">Or type the key: <code id="totp-secret">${escapeHtml(o.secret)}</code></p>
  ${alert(o.message)}
  ${codeForm}`,
  );
}

/** The recovery codes, shown once after enrolment. */
export function recoveryCodesPage(codes: readonly string[]): string {
  return page(
    'Recovery codes',
    `  <h1 id="recovery-codes">Your recovery codes</h1>
  <p class="muted">Each signs you in once if you lose your device. They are shown only now: store them safely.</p>
  <ul class="recovery-codes">${codes.map((c) => `<li><code>${c}</code></li>`).join('')}</ul>
  <a class="btn btn-primary btn-block" id="continue" href="/">Continue to the console</a>`,
  );
}
