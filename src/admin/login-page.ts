/** HTML-escapes text for the sign-in pages. */
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A page of the sign-in steps: the console's stylesheet, its brand, and `body` in a card. */
export function signInPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ctp-notify console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/app.css">
</head>
<body class="login-body">
<main class="login-card">
  <div class="brand brand-large"><span class="brand-mark" aria-hidden="true"></span><span>ctp-notify</span></div>
${body}
</main>
</body>
</html>
`;
}

const SSO = `<a class="btn btn-primary btn-block" id="sso" href="/auth/login">Sign in with single sign-on</a>
  <p class="muted login-or">or with a local account</p>`;

/** The sign-in page: a plain form (works without script), styled by the console's stylesheet. */
export function loginPage(
  o: { message?: string | undefined; username?: string | undefined; sso?: boolean } = {},
): string {
  return signInPage(
    'Sign in',
    `  <h1>Operator console</h1>
  <p class="muted">Click to Pay enrollment notifications</p>
  ${o.message ? `<div class="alert alert-error" role="alert">${escapeHtml(o.message)}</div>` : ''}
  ${o.sso ? SSO : ''}
  <form method="post" action="/login" autocomplete="off">
    <label for="username">User name</label>
    <input id="username" name="username" autocomplete="username" required autofocus value="${escapeHtml(o.username ?? '')}">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit" class="btn btn-primary btn-block">Sign in</button>
  </form>
  <p class="fineprint">Access is restricted to authorised bank staff. Every action is recorded.</p>`,
  );
}
