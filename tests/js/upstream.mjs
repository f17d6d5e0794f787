// An upstream IdP built on panva oidc-provider, mounted under /realms/test, that signs in one
// user at once (no login form) with Cognito-style claims, so a federated login can run unattended.
// Usage: node upstream.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI  → prints "ready ISSUER".
import Provider from 'oidc-provider';
import Koa from 'koa';
import mount from 'koa-mount';

const [port, clientId, secret, redirect] = process.argv.slice(2);
const prefix = '/realms/test';
const issuer = `http://127.0.0.1:${port}${prefix}`;
const provider = new Provider(issuer, {
  clients: [{ client_id: clientId, client_secret: secret, redirect_uris: [redirect] }],
  claims: {
    openid: ['sub', 'cognito:username', 'cognito:groups'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  conformIdTokenClaims: false,
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({
      sub: id,
      'cognito:username': 'upstream-alice',
      'cognito:groups': ['sso-admins', 'devs'],
      email: 'alice@upstream.test',
      email_verified: true,
      name: 'Alice Upstream',
    }),
  }),
  interactions: { url: (ctx, interaction) => `${prefix}/interaction/${interaction.uid}` },
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => false },
});
const app = new Koa();
app.use(async (ctx, next) => {
  if (!ctx.path.startsWith(`${prefix}/interaction/`)) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const accountId = 'upstream-user-1';
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
  ctx.respond = false;
});
app.use(mount(prefix, provider));
app.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
