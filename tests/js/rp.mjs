// A relying party built on panva openid-client: discovery, authorization code + PKCE (S256)
// through every redirect (with a small cookie jar), ID-token validation, then a refresh.
// Usage: node rp.mjs ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI
// Prints one JSON line: {ok, claims, refreshed_claims, hops} or {ok:false, stage, ...}.
import * as client from 'openid-client';

const [issuer, clientId, secret, redirectUri] = process.argv.slice(2);
const out = (v) => { console.log(JSON.stringify(v)); };
try {
  const config = await client.discovery(new URL(issuer), clientId, secret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  const verifier = client.randomPKCECodeVerifier();
  const challenge = await client.calculatePKCECodeChallenge(verifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const start = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email groups offline_access',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const jar = new Map();
  const hops = [];
  let url = start.href;
  for (let i = 0; i < 20 && !url.startsWith(redirectUri); i++) {
    const origin = new URL(url).origin;
    const cookies = jar.get(origin);
    const headers = cookies ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
    const r = await fetch(url, { redirect: 'manual', headers });
    for (const c of r.headers.getSetCookie()) {
      const [kv] = c.split(';');
      const at = kv.indexOf('=');
      if (!jar.has(origin)) jar.set(origin, new Map());
      jar.get(origin).set(kv.slice(0, at).trim(), kv.slice(at + 1));
    }
    hops.push(`${r.status} ${new URL(url).pathname}`);
    const loc = r.headers.get('location');
    if (!loc) {
      out({ ok: false, stage: 'redirect', status: r.status, body: (await r.text()).slice(0, 400), hops });
      process.exit(0);
    }
    url = new URL(loc, url).href;
  }
  const tokens = await client.authorizationCodeGrant(config, new URL(url), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  const claims = tokens.claims();
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  out({ ok: true, claims, refreshed_claims: refreshed.claims(), hops });
} catch (e) {
  out({ ok: false, stage: 'client', error: String(e), code: e.code, cause: String(e.cause ?? '') });
}
