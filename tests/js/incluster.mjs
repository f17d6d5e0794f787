// An IdP built on panva oidc-provider, as a lab cluster runs one (a Keycloak in its own namespace):
// it listens on HOST:PORT (inside a lab network namespace), names ISSUER as its issuer, knows one
// client, and serves TLS when given a certificate and key. Every request to its token endpoint is
// reported on stdout as a line `token-request auth=basic|post|none reference=true|false error=E`,
// where `reference` says whether the secret presented starts with `$` (the secret itself is never
// printed), so a test can assert that no Secret reference ever reaches it.
// Usage: node incluster.mjs HOST PORT ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI [CERT KEY]
//   → prints "ready ISSUER".
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import Provider from 'oidc-provider';
import Koa from 'koa';
import mount from 'koa-mount';

const [host, port, issuer, clientId, secret, redirect, cert, key] = process.argv.slice(2);
const prefix = new URL(issuer).pathname.replace(/\/$/, '');
const provider = new Provider(issuer, {
  clients: [{ client_id: clientId, client_secret: secret, redirect_uris: [redirect] }],
  claims: { openid: ['sub', 'groups'], email: ['email', 'email_verified'], profile: ['name'] },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
  findAccount: async (ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => false },
});
provider.proxy = true;

function presented(ctx) {
  const h = ctx.get('authorization') || '';
  if (h.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(h.slice(6), 'base64').toString();
    const pass = decodeURIComponent(decoded.slice(decoded.indexOf(':') + 1));
    return ['basic', pass];
  }
  const body = ctx.oidc?.body || {};
  if (typeof body.client_secret === 'string') return ['post', body.client_secret];
  return ['none', ''];
}

for (const ev of ['grant.error', 'grant.success']) {
  provider.on(ev, (ctx, err) => {
    const [auth, pass] = presented(ctx);
    const error = err?.error || 'none';
    const line = `token-request auth=${auth} reference=${pass.startsWith('$')} error=${error}\n`;
    if (process.env.TOKEN_LOG) fs.appendFileSync(process.env.TOKEN_LOG, line);
    else process.stdout.write(line);
  });
}

const app = new Koa();
app.use(mount(prefix || '/', provider));
const server = cert
  ? https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, app.callback())
  : http.createServer(app.callback());
server.listen(Number(port), host, () => console.log(`ready ${issuer}`));
