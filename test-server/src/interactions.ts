/**
 * The login and consent pages oidc-provider sends the browser to (server-rendered, no external
 * assets, CSRF-protected, never framed), and the `--auto-approve` shortcut that logs in the
 * first test user and grants what was asked without showing either page.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import type { InteractionResults } from 'oidc-provider';
import { escapeHtml } from './html';
import { API_SCOPES, TEST_USERS } from './options';
import type { Provider } from './provider';

export interface InteractionOptions {
  provider: Provider;
  apiUrl: string;
  autoApprove: boolean;
}

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

const PAGE_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
};

const STYLE = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;box-sizing:border-box}
button{margin-top:1rem;padding:.5rem 1.2rem}.hint{color:#555;font-size:.9rem}.error{color:#b00020}
ul{padding-left:1.2rem}code{background:#f3f3f3;padding:0 .2rem}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

function requestedScopes(interaction: Interaction): string[] {
  const scope = interaction.params.scope;
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

function requestedResource(interaction: Interaction, apiUrl: string): string {
  const resource = interaction.params.resource;
  if (typeof resource === 'string') return resource;
  if (Array.isArray(resource) && typeof resource[0] === 'string') return resource[0];
  return apiUrl;
}

/** Grants the requested scopes (OpenID ones and the API ones) and returns the grant id. */
async function grantRequested(
  provider: Provider,
  interaction: Interaction,
  accountId: string,
  apiUrl: string,
): Promise<string> {
  const clientId = String(interaction.params.client_id);
  const grant = interaction.grantId
    ? ((await provider.Grant.find(interaction.grantId)) ??
      new provider.Grant({ accountId, clientId }))
    : new provider.Grant({ accountId, clientId });
  const scopes = requestedScopes(interaction);
  const apiScopes = scopes.filter((s) => (API_SCOPES as readonly string[]).includes(s));
  // The API scopes are also listed in the provider's `scopes` (for discovery), so oidc-provider
  // counts them as OpenID scopes too: grant them both ways.
  if (scopes.length > 0) grant.addOIDCScope(scopes);
  if (apiScopes.length > 0)
    grant.addResourceScope(requestedResource(interaction, apiUrl), apiScopes);
  const details = interaction.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope);
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [resource, missing] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(resource, missing);
  }
  return grant.save();
}

/**
 * Routes under /interaction/:uid: the pages oidc-provider's `interactions.url` points at.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-10.12 (CSRF) and section 10.13 (clickjacking)
 */
export function interactionRouter(options: InteractionOptions): Router {
  const { provider, apiUrl, autoApprove } = options;
  const csrfKey = randomBytes(32);
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '16kb' });

  const csrfFor = (uid: string) => createHmac('sha256', csrfKey).update(uid).digest('base64url');
  const csrfValid = (uid: string, presented: unknown) => {
    if (typeof presented !== 'string') return false;
    const expected = Buffer.from(csrfFor(uid));
    const given = Buffer.from(presented);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  router.use((_req: Request, res: Response, next: NextFunction) => {
    res.set(PAGE_HEADERS);
    next();
  });

  router.get('/interaction/:uid', async (req, res, next) => {
    try {
      const interaction = await provider.interactionDetails(req, res);
      if (autoApprove) {
        const accountId = interaction.session?.accountId ?? TEST_USERS[0]?.username ?? 'alice';
        const grantId = await grantRequested(provider, interaction, accountId, apiUrl);
        const result: InteractionResults = { login: { accountId }, consent: { grantId } };
        await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
        return;
      }
      const client = await provider.Client.find(String(interaction.params.client_id));
      const clientName = client?.clientName ?? String(interaction.params.client_id);
      const csrf = csrfFor(interaction.uid);
      if (interaction.prompt.name === 'login') {
        res.type('html').send(loginPage(interaction.uid, clientName, csrf, undefined));
        return;
      }
      res
        .type('html')
        .send(
          consentPage(
            interaction.uid,
            clientName,
            String(interaction.params.redirect_uri ?? ''),
            requestedScopes(interaction),
            interaction.session?.accountId ?? '',
            csrf,
          ),
        );
    } catch (err) {
      next(err);
    }
  });

  /** A form post of one interaction step: the interaction looked up, its CSRF token checked. */
  const submitted =
    (
      step: (
        req: Request,
        res: Response,
        interaction: Interaction,
        body: Record<string, unknown>,
      ) => Promise<void>,
    ) =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      try {
        const interaction = await provider.interactionDetails(req, res);
        const body = req.body as Record<string, unknown>;
        if (!csrfValid(interaction.uid, body.csrf)) {
          res.status(403).type('html').send(page('Forbidden', '<h1>Invalid CSRF token</h1>'));
          return;
        }
        await step(req, res, interaction, body);
      } catch (err) {
        next(err);
      }
    };

  router.post(
    '/interaction/:uid/login',
    form,
    submitted(async (req, res, interaction, body) => {
      if (interaction.prompt.name !== 'login') {
        res.status(400).type('html').send(page('Bad request', '<h1>Not a login step</h1>'));
        return;
      }
      const user = TEST_USERS.find((u) => u.username === body.username);
      const password = Buffer.from(typeof body.password === 'string' ? body.password : '');
      const expected = Buffer.from(user?.password ?? '');
      const ok =
        user !== undefined &&
        password.length === expected.length &&
        timingSafeEqual(password, expected);
      if (!ok) {
        const client = await provider.Client.find(String(interaction.params.client_id));
        res
          .status(401)
          .type('html')
          .send(
            loginPage(
              interaction.uid,
              client?.clientName ?? String(interaction.params.client_id),
              csrfFor(interaction.uid),
              'Wrong username or password.',
            ),
          );
        return;
      }
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: user.username } },
        { mergeWithLastSubmission: false },
      );
    }),
  );

  router.post(
    '/interaction/:uid/confirm',
    form,
    submitted(async (req, res, interaction) => {
      const accountId = interaction.session?.accountId;
      if (interaction.prompt.name !== 'consent' || !accountId) {
        res.status(400).type('html').send(page('Bad request', '<h1>Not a consent step</h1>'));
        return;
      }
      const grantId = await grantRequested(provider, interaction, accountId, apiUrl);
      await provider.interactionFinished(
        req,
        res,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      );
    }),
  );

  router.post(
    '/interaction/:uid/abort',
    form,
    submitted(async (req, res) => {
      await provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'The user denied the request' },
        { mergeWithLastSubmission: false },
      );
    }),
  );

  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    // oidc-provider's own errors (expired or foreign interaction) are the user's to see.
    const e = err as { statusCode?: unknown; error?: unknown; error_description?: unknown };
    if (typeof e.statusCode !== 'number' || typeof e.error !== 'string') return next(err);
    const description = typeof e.error_description === 'string' ? e.error_description : '';
    res
      .status(e.statusCode)
      .type('html')
      .send(
        page(
          'Sign-in failed',
          `<h1>This sign-in cannot continue</h1><p><code>${escapeHtml(e.error)}</code>: ${escapeHtml(description)}</p><p>Start again from the application.</p>`,
        ),
      );
  });

  return router;
}

function loginPage(
  uid: string,
  clientName: string,
  csrf: string,
  error: string | undefined,
): string {
  const users = TEST_USERS.map(
    (u) =>
      `<li><code>${escapeHtml(u.username)}</code> / <code>${escapeHtml(u.password)}</code></li>`,
  ).join('');
  const u = escapeHtml(uid);
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p><strong>${escapeHtml(clientName)}</strong> wants to access the demo API.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${u}/login" autocomplete="off">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<label for="username">Username</label><input id="username" name="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${u}/abort"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><button type="submit">Cancel</button></form>
<p class="hint">Test users:</p><ul>${users}</ul>`,
  );
}

function consentPage(
  uid: string,
  clientName: string,
  redirectUri: string,
  scopes: string[],
  accountId: string,
  csrf: string,
): string {
  const u = escapeHtml(uid);
  const list = scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('');
  return page(
    'Authorize access',
    `<h1>Authorize access</h1>
<p>Signed in as <strong>${escapeHtml(accountId)}</strong>.</p>
<p><strong>${escapeHtml(clientName)}</strong> asks for:</p><ul>${list}</ul>
<p class="hint">You will be sent back to <code>${escapeHtml(redirectUri)}</code>.</p>
<form method="post" action="/interaction/${u}/confirm"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><button type="submit" autofocus>Allow</button></form>
<form method="post" action="/interaction/${u}/abort"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><button type="submit">Deny</button></form>`,
  );
}
