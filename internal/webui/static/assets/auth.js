// OAuth 2.0 authorization code flow with PKCE (S256) for the public
// first-party client clouddrive-web. Tokens live in sessionStorage: they
// survive reloads of this tab and nothing else.

export const CLIENT_ID = 'clouddrive-web';
const SCOPE = 'clouddrive:read_all clouddrive:write';
const TOKENS = 'clouddrive.tokens';
const PENDING = 'clouddrive.pkce.';

// baseURL is the server's base URL with a trailing slash, from the page's
// <meta name="clouddrive-base"> (relative, so a path prefix works).
export function baseURL() {
  const m = document.querySelector('meta[name="clouddrive-base"]');
  return new URL(m ? m.content : '/', location.href).href;
}

export function redirectURI() { return new URL('ui/callback', baseURL()).href; }

function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(n) {
  const b = new Uint8Array(n);
  crypto.getRandomValues(b);
  return b64url(b);
}

// sha256 uses WebCrypto when the page is a secure context, and a small
// implementation otherwise (plain http on a LAN address has no
// crypto.subtle, but PKCE still needs SHA-256).
async function sha256(text) {
  const data = new TextEncoder().encode(text);
  if (globalThis.crypto && crypto.subtle) return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
  return sha256js(data);
}

function sha256js(data) {
  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);
  const H = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const len = data.length, padded = new Uint8Array(((len + 9 + 63) >> 6) << 6);
  padded.set(data); padded[len] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 4, len * 8); view.setUint32(padded.length - 8, Math.floor(len / 0x20000000));
  const W = new Uint32Array(64), rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) W[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(W[i - 15], 7) ^ rotr(W[i - 15], 18) ^ (W[i - 15] >>> 3);
      const s1 = rotr(W[i - 2], 17) ^ rotr(W[i - 2], 19) ^ (W[i - 2] >>> 10);
      W[i] = W[i - 16] + s0 + W[i - 7] + s1;
    }
    let [a, b, c, d, e, f, g, h] = H;
    for (let i = 0; i < 64; i++) {
      const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + W[i]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      h = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
  }
  const out = new Uint8Array(32), ov = new DataView(out.buffer);
  H.forEach((v, i) => ov.setUint32(i * 4, v));
  return out;
}

export function tokens() {
  try { return JSON.parse(sessionStorage.getItem(TOKENS)); } catch { return null; }
}

export function storeTokens(t) {
  sessionStorage.setItem(TOKENS, JSON.stringify(t));
}

function fromResponse(j) {
  return { access: j.access_token, refresh: j.refresh_token, expiresAt: Date.now() + (j.expires_in || 3600) * 1000 };
}

// authorizeURL starts a sign-in: it remembers the verifier and where to
// return under a fresh state, and returns the authorization URL.
export async function authorizeURL(returnTo) {
  const verifier = randomString(32), state = randomString(16);
  const challenge = b64url(await sha256(verifier));
  sessionStorage.setItem(PENDING + state, JSON.stringify({ verifier, returnTo }));
  const q = new URLSearchParams({
    client_id: CLIENT_ID, response_type: 'code', redirect_uri: redirectURI(), scope: SCOPE, state,
    code_challenge: challenge, code_challenge_method: 'S256',
  });
  return new URL('ap/oa?' + q, baseURL()).href;
}

export async function login(returnTo = location.href) {
  location.assign(await authorizeURL(returnTo));
}

// completeLogin runs on the redirect URI: it trades the code for tokens
// and returns where the sign-in started.
export async function completeLogin(params) {
  const state = params.get('state') || '';
  const raw = sessionStorage.getItem(PENDING + state);
  sessionStorage.removeItem(PENDING + state);
  if (params.get('error')) throw new Error(params.get('error_description') || params.get('error'));
  if (!raw) throw new Error('This sign-in was not started in this tab, or it was already used. Start again.');
  const { verifier, returnTo } = JSON.parse(raw);
  const res = await fetch(new URL('auth/o2/token', baseURL()), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code: params.get('code') || '', redirect_uri: redirectURI(),
      client_id: CLIENT_ID, code_verifier: verifier,
    }),
  });
  const j = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(j.error_description || j.error || 'token request failed: ' + res.status);
  const t = fromResponse(j);
  storeTokens(t);
  return { returnTo, tokens: t };
}

let refreshing = null;

// refresh trades the refresh token for a new pair (refresh tokens rotate);
// concurrent callers share one request.
export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const t = tokens();
      if (!t || !t.refresh) throw new AuthError('not signed in');
      const res = await fetch(new URL('auth/o2/token', baseURL()), {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t.refresh, client_id: CLIENT_ID }),
      });
      if (!res.ok) {
        sessionStorage.removeItem(TOKENS);
        throw new AuthError('session expired');
      }
      const nt = fromResponse(await res.json());
      storeTokens(nt);
      return nt;
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

export class AuthError extends Error {}

// accessToken returns a token valid for at least another 30 seconds.
export async function accessToken() {
  let t = tokens();
  if (!t) throw new AuthError('not signed in');
  if (t.expiresAt - Date.now() < 30000) t = await refresh();
  return t.access;
}

// logout revokes the refresh token, which revokes its whole family (the
// access token included), forgets both, and ends the sign-in to the
// authorization pages (ap/signout clears the session cookie and ends the
// session on the server), so the next sign-in asks for the password.
export async function logout() {
  const t = tokens();
  sessionStorage.removeItem(TOKENS);
  const post = (path, form) => fetch(new URL(path, baseURL()), {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  }).catch(() => {});
  const revoke = (token) => post('auth/o2/revoke', { token, client_id: CLIENT_ID });
  await Promise.all([post('ap/signout', {}), t && t.refresh && revoke(t.refresh), t && t.access && revoke(t.access)]);
}
