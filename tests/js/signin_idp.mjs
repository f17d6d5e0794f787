// An upstream IdP built on panva oidc-provider with a real sign-in form (login and password, as
// a browser types them), for the lab's browser tests.
// Usage: node signin_idp.mjs ISSUER LISTEN_HOST PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI PASSWORD
// → prints "ready ISSUER". A wrong password shows the form again.
import Provider from 'oidc-provider';
import Koa from 'koa';
import mount from 'koa-mount';

const [issuer, host, port, clientId, secret, redirect, password] = process.argv.slice(2);
const prefix = new URL(issuer).pathname.replace(/\/$/, '');
const provider = new Provider(issuer, {
  clients: [{ client_id: clientId, client_secret: secret, redirect_uris: [redirect] }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
  conformIdTokenClaims: false,
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({
      sub: id,
      email: 'alice@idp.lab.test',
      email_verified: true,
      name: 'Alice Lab',
      groups: ['lab-admins'],
    }),
  }),
  interactions: { url: (ctx, interaction) => `${prefix}/interaction/${interaction.uid}` },
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => false },
});
provider.proxy = false;

const form = (uid, error) => `<!DOCTYPE html><html><body><h1>Sign in</h1>${error ? `<p>${error}</p>` : ''}
<form method="post" action="${prefix}/interaction/${uid}">
<input name="login" autocomplete="username"><input type="password" name="password">
<button type="submit">Sign in</button></form></body></html>`;

const body = (req) =>
  new Promise((resolve) => {
    let s = '';
    req.on('data', (c) => (s += c));
    req.on('end', () => resolve(new URLSearchParams(s)));
  });

const app = new Koa();
app.use(async (ctx, next) => {
  if (!ctx.path.startsWith(`${prefix}/interaction/`)) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET') {
    ctx.type = 'html';
    ctx.body = form(details.uid);
    return;
  }
  const posted = await body(ctx.req);
  if (posted.get('password') !== password) {
    ctx.type = 'html';
    ctx.body = form(details.uid, 'Wrong login or password.');
    return;
  }
  const accountId = posted.get('login') || 'alice';
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
  ctx.respond = false;
});
app.use(mount(prefix, provider));
app.listen(Number(port), host, () => console.log(`ready ${issuer}`));
