// An app that keeps its session the way Argo Workflows' argo-server does (server/auth/sso):
// `/oauth2/redirect` sends the browser to its provider, `/oauth2/callback` exchanges the code at
// the provider's token endpoint from the server side and sets ONE cookie, `authorization`, with
// `Bearer v2:<id_token>` (no chunking), and any page without that cookie sends the browser to log
// in again. A token over the browser's 4,096 bytes is dropped by the browser, and the login
// loops (argo-workflows#16744).
// Usage: node one_cookie_app.mjs LISTEN_HOST PORT BASE_URL ISSUER INTERNAL_ISSUER CLIENT_ID SECRET
// → prints "ready BASE_URL".
import http from 'node:http';
import crypto from 'node:crypto';

const [host, port, base, issuer, internal, clientId, secret] = process.argv.slice(2);
const callback = `${base}/oauth2/callback`;
const states = new Set();

const send = (res, status, headers, body = '') => {
  res.writeHead(status, headers);
  res.end(body);
};

async function token(code) {
  const r = await fetch(`${internal}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: callback }),
  });
  if (!r.ok) throw new Error(`token endpoint: ${r.status} ${await r.text()}`);
  return (await r.json()).id_token;
}

http
  .createServer(async (req, res) => {
    const u = new URL(req.url, base);
    if (u.pathname === '/oauth2/redirect') {
      const state = crypto.randomBytes(12).toString('hex');
      states.add(state);
      const q = new URLSearchParams({
        client_id: clientId,
        redirect_uri: callback,
        response_type: 'code',
        scope: 'openid email groups',
        state,
      });
      return send(res, 302, { location: `${issuer}/auth?${q}` });
    }
    if (u.pathname === '/oauth2/callback') {
      const state = u.searchParams.get('state');
      if (!states.delete(state)) return send(res, 400, { 'content-type': 'text/plain' }, 'invalid state');
      try {
        const idToken = await token(u.searchParams.get('code'));
        const cookie = `authorization=Bearer v2:${idToken}; Path=/; SameSite=Lax; HttpOnly`;
        return send(res, 302, { location: `${base}/workflows`, 'set-cookie': cookie });
      } catch (e) {
        return send(res, 401, { 'content-type': 'text/plain' }, String(e.message));
      }
    }
    const cookie = req.headers.cookie ?? '';
    if (!cookie.split(/;\s*/).some((c) => c.startsWith('authorization='))) {
      return send(res, 302, { location: `${base}/oauth2/redirect` });
    }
    return send(res, 200, { 'content-type': 'text/html' }, '<html><body>workflows</body></html>');
  })
  .listen(Number(port), host, () => console.log(`ready ${base}`));
