// The OAuth redirect URI: trade the code for tokens and go back to where
// the sign-in started. A sign-in started for a framed picker ends in a
// popup, which hands the tokens to its opener (same origin only).
import { completeLogin, authorizeURL, baseURL } from './auth.js';

const msg = document.getElementById('msg');
const params = new URLSearchParams(location.search);
if (params.get('start') === 'popup') {
  // Opened by a framed picker: sign in here, in a window of our own.
  location.replace(await authorizeURL('popup'));
} else try {
  const { returnTo, tokens } = await completeLogin(params);
  if (returnTo === 'popup' && window.opener) {
    window.opener.postMessage({ type: 'clouddrive:tokens', tokens }, location.origin);
    window.close();
  } else {
    const u = new URL(returnTo || 'ui/', baseURL());
    location.replace(u.origin === location.origin ? u.href : new URL('ui/', baseURL()).href);
  }
} catch (e) {
  msg.textContent = 'Sign-in failed: ' + e.message;
  msg.append(document.createElement('br'));
  const a = document.createElement('a');
  a.href = new URL('ui/', baseURL()).href;
  a.textContent = 'Try again';
  msg.append(a);
}
