// The picker: a third-party page opens /picker in a popup or an iframe;
// the user picks files, and the page sends share links for them to the
// opener's origin, which the server checked against the app's registered
// redirect URIs before serving this page (see package webui).
import { tokens, storeTokens, login, baseURL, AuthError } from './auth.js';
import { API, APIError } from './api.js';
import { FileList } from './filelist.js';
import { h, $ } from './util.js';

const cfg = $('meta[name="clouddrive-picker"]').dataset;
const origin = cfg.origin, multiple = cfg.multiple === '1';
const target = window.opener || (window.parent !== window ? window.parent : null);
const api = new API();
let path = [], list;

function status(msg, error = false) {
  $('#status').textContent = msg;
  $('#status').classList.toggle('error', error);
}

// send posts to the registered origin only; other origins never see it.
function send(msg) {
  if (!target) { status('This page was not opened by another site.', true); return false; }
  target.postMessage(msg, origin);
  return true;
}

function cancel() {
  send({ type: 'clouddrive:cancel' });
  if (window.opener) window.close();
}

async function choose() {
  const sel = list.selection();
  if (!sel.length) return;
  $('#choose').disabled = true;
  status('Creating links…');
  try {
    const files = [];
    for (const n of sel) {
      const l = await api.createLink(n.id);
      files.push({ id: n.id, name: n.name, size: n.contentProperties ? n.contentProperties.size : 0, url: l.url });
    }
    if (send({ type: 'clouddrive:picked', files })) {
      status('Sent ' + files.length + ' link' + (files.length === 1 ? '' : 's') + '.');
      document.body.dataset.sent = '1';
      if (window.opener) setTimeout(() => window.close(), 300);
    }
  } catch (e) {
    if (e instanceof AuthError) { signin(); return; }
    status(e instanceof APIError && e.status === 404 && /unknown operation/.test(e.message)
      ? 'This server has no share links.' : 'Could not create links: ' + e.message, true);
    $('#choose').disabled = false;
  }
}

function crumbs() {
  const ol = $('#crumbs');
  ol.replaceChildren(...path.map((n, i) => h('li', {}, i === path.length - 1
    ? h('span', { 'aria-current': 'page' }, n.isRoot ? 'My files' : n.name)
    : h('button', { type: 'button', onclick: () => open(n) }, n.isRoot ? 'My files' : n.name))));
}

async function open(n) {
  const i = path.findIndex((p) => p.id === n.id);
  path = i >= 0 ? path.slice(0, i + 1) : [...path, n];
  crumbs();
  await list.load((t) => api.children(n.id, { sort: '["kind DESC","name ASC"]', startToken: t }));
}

function signin() {
  $('#signin').hidden = false;
  $('#signin-btn').focus();
}

$('#signin-btn').addEventListener('click', () => {
  if (window.parent === window) { login(location.href); return; }
  // The login page refuses to be framed: sign in in a popup, which
  // posts the tokens back to this (same-origin) frame.
  const popup = window.open(new URL('ui/callback?start=popup', baseURL()).href, 'clouddrive-login', 'width=480,height=640');
  window.addEventListener('message', (e) => {
    if (e.origin !== location.origin || e.source !== popup || !e.data || e.data.type !== 'clouddrive:tokens') return;
    storeTokens(e.data.tokens);
    location.reload();
  });
});
$('#signin-cancel').addEventListener('click', cancel);
$('#cancel').addEventListener('click', cancel);
$('#choose').addEventListener('click', choose);
document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !document.querySelector('dialog[open]')) cancel(); });

list = new FileList(api, $('#list'), {
  label: 'Files to choose from',
  single: !multiple,
  selectable: (n) => n.kind === 'FILE',
  onOpen: (n) => open(n).catch(fail),
  onError: fail,
  onSelection: (sel) => {
    $('#choose').disabled = !sel.length;
    $('#sel-count').textContent = sel.length ? sel.length + ' selected' : 'Nothing selected';
  },
});

function fail(e) {
  if (e instanceof AuthError) signin();
  else status(e.message, true);
}

if (!tokens()) {
  signin();
} else {
  try {
    await api.init();
    await open(await api.root());
    document.body.dataset.ready = '1';
  } catch (e) {
    fail(e);
  }
}
