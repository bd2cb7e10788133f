// The clouddrive file manager. It uses only the public API (see api.js)
// with a token from the OAuth flow in auth.js.
import { tokens, login, logout, AuthError } from './auth.js';
import { API, APIError, escapeFilter } from './api.js';
import { FileList } from './filelist.js';
import { Uploads } from './uploads.js';
import { interrupted, forget as forgetUploads } from './tus.js';
import { h, $, formatBytes, formatDate, dialog, ask, confirmDialog, blobDownload, isImage } from './util.js';

const api = new API();
const state = { mode: 'files', root: null, path: [], query: '', sort: localStorage.getItem('clouddrive.sort') || 'name ASC' };
let list, uploads;

function status(msg, error = false) {
  const el = $('#status');
  el.textContent = msg || '';
  el.classList.toggle('error', !!error);
}

function fail(e) {
  if (e instanceof AuthError) { showSignin(); return; }
  console.error(e);
  status(explain(e), true);
}

export function explain(e) {
  if (e instanceof APIError) {
    if (e.code === 'QUOTA_EXCEEDED' || (e.status === 403 && /quota/i.test(e.message))) return 'Not enough storage space: ' + e.message;
    if (e.code === 'NAME_ALREADY_EXISTS') return 'An item with that name already exists here.';
    return e.message + ' (' + e.status + ')';
  }
  return e && e.message ? e.message : String(e);
}

function showSignin() {
  $('#signin').hidden = false;
  $('#signin-btn').focus();
}

function sortParam() {
  return JSON.stringify(['kind DESC', state.sort]);
}

function folder() { return state.path[state.path.length - 1]; }

// ---- navigation -------------------------------------------------------

async function openFolder(node, { push = true } = {}) {
  state.mode = 'files';
  const i = state.path.findIndex((n) => n.id === node.id);
  if (i >= 0) state.path = state.path.slice(0, i + 1);
  else if (node.isRoot) state.path = [node];
  else state.path.push(node);
  if (push) history.pushState({ folder: node.id }, '', node.isRoot ? '?' : '?folder=' + encodeURIComponent(node.id));
  $('#search-q').value = '';
  closeProps();
  render();
  status('');
  await list.load((t) => api.children(node.id, { sort: sortParam(), startToken: t }));
}

// pathTo walks up the first parents from node to the root.
async function pathTo(id) {
  const out = [];
  for (let n = await api.node(id); ; n = await api.node(n.parents[0])) {
    out.unshift(n);
    if (n.isRoot || !n.parents || !n.parents.length || out.length > 64) break;
  }
  if (!out[0].isRoot) out.unshift(state.root);
  return out;
}

async function openTrash() {
  state.mode = 'trash';
  history.pushState({ trash: true }, '', '?trash');
  closeProps();
  render();
  await list.load((t) => api.trashList({ sort: JSON.stringify(['modifiedDate DESC']), startToken: t }));
}

async function search(q) {
  q = q.trim();
  if (!q) { openFolder(folder()); return; }
  state.mode = 'search';
  state.query = q;
  closeProps();
  render();
  // A bare word matches anywhere in the name; * in the query is a wildcard.
  const value = q.includes('*') ? q.split('*').map(escapeFilter).join('*') : '*' + escapeFilter(q) + '*';
  await list.load((t) => api.nodes({ filters: '(kind:FILE OR kind:FOLDER) AND name:' + value, sort: sortParam(), startToken: t }));
}

function render() {
  const crumbs = $('#crumbs');
  crumbs.replaceChildren();
  if (state.mode === 'trash') {
    crumbs.append(h('li', {}, h('span', { 'aria-current': 'page' }, 'Trash')));
  } else if (state.mode === 'search') {
    crumbs.append(h('li', {}, h('button', { type: 'button', onclick: () => openFolder(folder()) }, 'My files')),
      h('li', {}, h('span', { 'aria-current': 'page' }, 'Search: ' + state.query)));
  } else {
    state.path.forEach((n, i) => {
      const last = i === state.path.length - 1;
      const label = n.isRoot ? 'My files' : n.name;
      crumbs.append(h('li', {}, last ? h('span', { 'aria-current': 'page' }, label)
        : h('button', { type: 'button', onclick: () => openFolder(n) }, label)));
    });
  }
  $('#nav-files').toggleAttribute('aria-current', state.mode !== 'trash');
  if (state.mode !== 'trash') $('#nav-files').setAttribute('aria-current', 'page');
  $('#nav-trash').toggleAttribute('aria-current', state.mode === 'trash');
  if (state.mode === 'trash') $('#nav-trash').setAttribute('aria-current', 'page');
  for (const id of ['new-folder', 'upload-files', 'upload-folder']) $('#' + id).disabled = state.mode !== 'files';
  document.title = (state.mode === 'trash' ? 'Trash' : state.mode === 'search' ? 'Search' : (folder().isRoot ? 'My files' : folder().name)) + ' — clouddrive';
  list.opts.empty = state.mode === 'trash' ? 'The trash is empty.' : state.mode === 'search' ? 'Nothing matches.' : 'This folder is empty. Drop files here or use Upload.';
  selectionChanged(list.selection());
}

function selectionChanged(sel) {
  const n = sel.length, trash = state.mode === 'trash';
  $('#sel-count').textContent = n ? n + ' selected' : '';
  const show = {
    download: !trash && n > 0, rename: !trash && n === 1, move: !trash && n > 0, share: !trash && n === 1,
    props: n === 1, trash: !trash && n > 0, restore: trash && n > 0, purge: trash && n > 0, clear: n > 0,
  };
  for (const b of document.querySelectorAll('#selbar [data-act]')) b.hidden = !show[b.dataset.act];
}

// ---- actions ----------------------------------------------------------

const actions = {
  async download(sel) {
    for (const n of sel) {
      if (n.kind === 'FOLDER') {
        status('Preparing ' + n.name + '.zip…');
        blobDownload(await api.blob(api.archiveURL(n.id)), (n.name || 'root') + '.zip');
        status('Downloaded ' + n.name + '.zip');
        continue;
      }
      // A temp link streams straight to disk, however big the file.
      const t = await api.node(n.id, true);
      if (t.tempLink) {
        // download=true: saved, never shown (the link may be on the
        // content origin, where the download attribute does not apply).
        const u = new URL(t.tempLink, location.href);
        u.searchParams.set('download', 'true');
        const a = h('a', { href: u.href, download: n.name, hidden: true });
        document.body.append(a);
        a.click();
        a.remove();
      } else {
        blobDownload(await api.blob(api.contentURL(n.id)), n.name);
      }
      status('Downloading ' + n.name);
    }
  },
  async rename([n]) {
    const dot = n.kind === 'FILE' ? n.name.lastIndexOf('.') : -1;
    const name = await ask('Rename', { label: 'New name', value: n.name, ok: 'Rename', select: dot > 0 ? dot : n.name.length });
    if (!name || name === n.name) return;
    const u = await api.patch(n.id, { name });
    list.update(u);
    status('Renamed to ' + u.name);
    if (!$('#props').hidden) showProps(u);
  },
  async move(sel) {
    const target = await chooseFolder('Move ' + (sel.length === 1 ? '“' + sel[0].name + '”' : sel.length + ' items'), sel);
    if (!target) return;
    const done = [];
    for (const n of sel) {
      const from = state.mode === 'files' ? folder().id : n.parents[0];
      if (from === target.id) continue;
      await api.move(n.id, from, target.id);
      done.push(n.id);
    }
    list.remove(done);
    status('Moved ' + done.length + ' item' + (done.length === 1 ? '' : 's') + ' to ' + (target.isRoot ? 'My files' : target.name));
  },
  async trash(sel) {
    for (const n of sel) await api.trash(n.id);
    list.remove(sel.map((n) => n.id));
    status('Moved ' + sel.length + ' item' + (sel.length === 1 ? '' : 's') + ' to the trash');
    closeProps();
    refreshQuota();
  },
  async restore(sel) {
    for (const n of sel) await api.restore(n.id);
    list.remove(sel.map((n) => n.id));
    status('Restored ' + sel.length + ' item' + (sel.length === 1 ? '' : 's'));
  },
  async purge(sel) {
    if (!await confirmDialog('Delete forever?', sel.length + ' item' + (sel.length === 1 ? '' : 's') + ' will be deleted permanently. This cannot be undone.', 'Delete forever')) return;
    for (const n of sel) await api.purge(n.id);
    list.remove(sel.map((n) => n.id));
    status('Deleted ' + sel.length + ' item' + (sel.length === 1 ? '' : 's') + ' forever');
    refreshQuota();
  },
  share([n]) { return shareDialog(n); },
  props([n]) { return showProps(n); },
  clear() { list.clearSelection(); },
};

async function run(act, sel) {
  try {
    await actions[act](sel);
  } catch (e) {
    fail(e);
  }
}

async function newFolder() {
  const name = await ask('New folder', { label: 'Folder name', value: 'New folder', ok: 'Create' });
  if (!name) return;
  try {
    const n = await api.createFolder(name, folder().id);
    await list.reload();
    status('Created folder ' + n.name);
  } catch (e) { fail(e); }
}

// chooseFolder shows a folder tree and resolves with the chosen folder.
function chooseFolder(title, moving = []) {
  const skip = new Set(moving.map((n) => n.id));
  let chosen = null;
  return dialog(title, (dlg, close) => {
    const ok = h('button', { type: 'button', class: 'primary', id: 'move-ok', disabled: true, onclick: () => close(chosen) }, 'Move here');
    const select = (n, btn) => {
      chosen = n;
      for (const b of dlg.querySelectorAll('.folder-btn')) b.setAttribute('aria-selected', 'false');
      btn.setAttribute('aria-selected', 'true');
      ok.disabled = false;
    };
    const branch = (n, depth) => {
      const kids = h('ul', { class: 'tree', role: 'group', hidden: true });
      const twisty = h('button', { type: 'button', class: 'twisty', 'aria-expanded': 'false', 'aria-label': 'Expand ' + (n.name || 'My files') }, '▸');
      const btn = h('button', { type: 'button', class: 'folder-btn', 'aria-selected': 'false', dataset: { id: n.id, name: n.name || '' }, onclick: () => select(n, btn) }, n.isRoot ? 'My files' : n.name);
      let loaded = false;
      const expand = async () => {
        const open = twisty.getAttribute('aria-expanded') !== 'true';
        twisty.setAttribute('aria-expanded', String(open));
        twisty.textContent = open ? '▾' : '▸';
        kids.hidden = !open;
        if (!open || loaded) return;
        loaded = true;
        kids.append(h('li', { class: 'muted small' }, 'Loading…'));
        const found = [];
        let t;
        do {
          const p = await api.children(n.id, { filters: 'kind:FOLDER', sort: '["name ASC"]', startToken: t });
          found.push(...p.data);
          t = p.nextToken;
        } while (t);
        kids.replaceChildren(...found.filter((c) => !skip.has(c.id)).map((c) => branch(c, depth + 1)));
        if (!kids.children.length) kids.append(h('li', { class: 'muted small' }, 'No folders'));
      };
      twisty.addEventListener('click', () => expand().catch(fail));
      const li = h('li', { role: 'treeitem' }, twisty, btn, kids);
      if (depth === 0) setTimeout(() => expand().catch(fail));
      return li;
    };
    dlg.append(h('ul', { class: 'tree top', role: 'tree', 'aria-label': 'Folders' }, branch(state.root, 0)),
      h('div', { class: 'buttons' }, h('button', { type: 'button', onclick: () => close(null) }, 'Cancel'), ok));
  });
}

// ---- share links ------------------------------------------------------

function copy(text, input) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text).then(() => status('Link copied'));
  if (input) { input.select(); document.execCommand('copy'); status('Link copied'); }
  return Promise.resolve();
}

function linkItem(l, onRevoke) {
  const input = h('input', { type: 'text', readonly: true, value: l.url, 'aria-label': 'Share link', class: 'link-url' });
  const meta = [l.hasPassword ? 'password' : '', l.expiresAt ? 'expires ' + formatDate(l.expiresAt) : 'no expiry'].filter(Boolean).join(', ');
  const li = h('li', { dataset: { id: l.id } }, l.name ? h('strong', {}, l.name) : null, input,
    h('button', { type: 'button', onclick: () => copy(l.url, input) }, 'Copy'),
    h('button', {
      type: 'button', class: 'danger', onclick: async () => {
        try { await api.deleteLink(l.id); li.remove(); status('Link revoked'); if (onRevoke) onRevoke(l); } catch (e) { fail(e); }
      },
    }, 'Revoke'),
    h('span', { class: 'small muted' }, meta));
  return li;
}

function shareDialog(n) {
  return dialog('Share “' + n.name + '”', (dlg, close) => {
    const listEl = h('ul', { class: 'links', 'aria-label': 'Links' });
    const msg = h('p', { class: 'status', role: 'status' });
    const expires = h('input', { type: 'datetime-local', id: 'link-expires' });
    const password = h('input', { type: 'password', id: 'link-password', autocomplete: 'new-password' });
    const form = h('form', {
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const l = await api.createLink(n.id, {
            expiresAt: expires.value ? new Date(expires.value).toISOString() : undefined,
            password: password.value || undefined,
          });
          listEl.prepend(linkItem(l));
          msg.textContent = 'Link created.';
          password.value = '';
        } catch (err) {
          msg.textContent = err.status === 404 && /unknown operation/.test(err.message) ? 'This server has no share links.' : explain(err);
        }
      },
    }, h('label', { for: 'link-expires' }, 'Expires (optional)'), expires,
    h('label', { for: 'link-password' }, 'Password (optional)'), password,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', id: 'link-create' }, 'Create link')));
    dlg.append(form, msg, listEl, h('div', { class: 'buttons' }, h('button', { type: 'button', onclick: () => close() }, 'Close')));
    api.links(n.id).then((r) => listEl.append(...r.data.map((l) => linkItem(l)))).catch(() => {});
  });
}

function allLinksDialog() {
  return dialog('Share links', (dlg, close) => {
    const listEl = h('ul', { class: 'links' }, h('li', { class: 'muted' }, 'Loading…'));
    dlg.append(listEl, h('div', { class: 'buttons' }, h('button', { type: 'button', onclick: () => close() }, 'Close')));
    api.links().then((r) => {
      listEl.replaceChildren(...r.data.map((l) => linkItem(l)));
      if (!r.data.length) listEl.append(h('li', { class: 'muted' }, 'You have not shared anything.'));
    }).catch((e) => listEl.replaceChildren(h('li', { class: 'muted' }, explain(e))));
  });
}

// ---- properties -------------------------------------------------------

let propsFor = null;

function closeProps() {
  propsFor = null;
  $('#props').hidden = true;
}

async function showProps(n) {
  propsFor = n.id;
  const el = $('#props');
  el.hidden = false;
  const c = n.contentProperties || {};
  const parents = h('dd', {}, ...(n.parents || []).map((p) => h('div', { class: 'parent', dataset: { id: p } }, p)));
  const rows = [
    ['Kind', n.kind], ['Status', n.status], ['Size', n.contentProperties ? formatBytes(c.size) + ' (' + c.size + ' bytes)' : ''],
    ['Type', c.contentType], ['MD5', c.md5], ['Created', formatDate(n.createdDate)], ['Modified', formatDate(n.modifiedDate)],
    ['Version', n.version], ['Labels', (n.labels || []).join(', ') || '—'], ['Description', n.description || '—'], ['ID', n.id],
  ].filter(([, v]) => v !== undefined && v !== '');
  const dl = h('dl', {}, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { dataset: { prop: k.toLowerCase() } }, String(v))]), h('dt', {}, 'Parents'), parents);
  const preview = isImage(n) ? h('img', { class: 'preview', alt: 'Preview of ' + n.name }) : null;
  el.replaceChildren(h('div', { class: 'buttons' }, h('button', { type: 'button', 'aria-label': 'Close properties', onclick: closeProps }, '✕ Close')),
    h('h2', {}, n.name || 'My files'), preview, dl);
  if (preview) api.blob(api.thumbnailURL(n.id)).then((b) => { preview.src = URL.createObjectURL(b); }).catch(() => preview.remove());
  for (const div of parents.children) {
    api.node(div.dataset.id).then((p) => {
      if (propsFor !== n.id) return;
      div.replaceChildren(h('button', { type: 'button', onclick: () => pathTo(p.id).then((path) => { state.path = path.slice(0, -1); openFolder(p); }).catch(fail) }, p.isRoot ? 'My files' : p.name));
    }).catch(() => {});
  }
}

// ---- quota ------------------------------------------------------------

async function refreshQuota() {
  try {
    const q = await api.quota();
    const used = q.quota - q.available;
    const unlimited = q.quota >= 2 ** 50;
    const pct = unlimited ? 0 : Math.min(100, Math.round(used / q.quota * 100));
    $('#quota-fill').style.width = (unlimited ? Math.min(100, used / 2 ** 30) : pct) + '%';
    $('#quota-bar').setAttribute('aria-valuenow', String(pct));
    $('#quota-bar').classList.toggle('full', pct >= 90);
    $('#quota-text').textContent = unlimited ? formatBytes(used) + ' used' : formatBytes(used) + ' of ' + formatBytes(q.quota) + ' used (' + pct + '%)';
  } catch (e) { if (e instanceof AuthError) showSignin(); }
}

// ---- drag and drop ----------------------------------------------------

// entriesOf reads dropped files and folders (webkitGetAsEntry) into
// [{file, path}] with path relative to the drop.
async function entriesOf(items) {
  const out = [];
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      out.push({ file: await new Promise((res, rej) => entry.file(res, rej)), path: prefix + entry.name });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      out.push({ dir: true, path: prefix + entry.name });
      for (;;) {
        const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const e of batch) await walk(e, prefix + entry.name + '/');
      }
    }
  };
  for (const e of items) if (e) await walk(e, '');
  return out;
}

function setupDrop() {
  const drop = $('#drop');
  let depth = 0;
  drop.addEventListener('dragenter', (e) => { if (state.mode !== 'files') return; e.preventDefault(); depth++; drop.classList.add('over'); });
  drop.addEventListener('dragover', (e) => { if (state.mode !== 'files') return; e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; });
  drop.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; drop.classList.remove('over'); } });
  drop.addEventListener('drop', async (e) => {
    e.preventDefault();
    depth = 0;
    drop.classList.remove('over');
    if (state.mode !== 'files') return;
    const dt = e.dataTransfer;
    const entries = dt.items && dt.items.length && dt.items[0].webkitGetAsEntry
      ? [...dt.items].filter((i) => i.kind === 'file').map((i) => i.webkitGetAsEntry()) : null;
    const files = entries ? await entriesOf(entries) : [...dt.files].map((f) => ({ file: f, path: f.name }));
    uploads.add(files, folder());
  });
}

// ---- start ------------------------------------------------------------

async function start() {
  list = new FileList(api, $('#list'), {
    onOpen: (n) => { if (state.mode !== 'trash') openFolder(n); },
    onActivate: (n) => { list.toggle(n, true); showProps(n); },
    onSelection: selectionChanged,
    onError: fail,
    onKey: (key, n) => {
      if (key === 'Delete') run(state.mode === 'trash' ? 'purge' : 'trash', list.selection().length ? list.selection() : [n]);
      if (key === 'F2' && state.mode !== 'trash') run('rename', [n]);
    },
  });
  uploads = new Uploads(api, {
    onDone: (parent) => {
      if (state.mode === 'files' && folder().id === parent) scheduleReload();
      refreshQuota();
      // The hint about unfinished uploads goes once none is left.
      if ($('#status').dataset.hint && !interrupted().length) { status(''); delete $('#status').dataset.hint; }
    },
    explain,
  });
  const view = localStorage.getItem('clouddrive.view') || 'list';
  setView(view);
  $('#sort').value = state.sort;
  $('#sort').addEventListener('change', (e) => {
    state.sort = e.target.value;
    localStorage.setItem('clouddrive.sort', state.sort);
    if (state.mode === 'search') search(state.query); else if (state.mode === 'files') openFolder(folder(), { push: false });
  });
  $('#view-list').addEventListener('click', () => setView('list'));
  $('#view-grid').addEventListener('click', () => setView('grid'));
  $('#new-folder').addEventListener('click', newFolder);
  $('#upload-files').addEventListener('click', () => $('#file-input').click());
  $('#upload-folder').addEventListener('click', () => $('#folder-input').click());
  for (const id of ['#file-input', '#folder-input']) {
    $(id).addEventListener('change', (e) => {
      const files = [...e.target.files].map((f) => ({ file: f, path: f.webkitRelativePath || f.name }));
      e.target.value = '';
      uploads.add(files, folder());
    });
  }
  $('#selbar').addEventListener('click', (e) => {
    const b = e.target.closest('[data-act]');
    if (b) run(b.dataset.act, list.selection());
  });
  $('#search').addEventListener('submit', (e) => { e.preventDefault(); search($('#search-q').value).catch(fail); });
  $('#nav-files').addEventListener('click', () => openFolder(state.root).catch(fail));
  $('#nav-trash').addEventListener('click', () => openTrash().catch(fail));
  $('#nav-links').addEventListener('click', allLinksDialog);
  $('#menu-toggle').addEventListener('click', () => {
    const open = $('#nav').classList.toggle('open');
    $('#menu-toggle').setAttribute('aria-expanded', String(open));
  });
  $('#nav').addEventListener('click', (e) => { if (e.target.closest('.nav-item')) $('#nav').classList.remove('open'); });
  $('#logout').addEventListener('click', async () => { forgetUploads(); await logout(); location.replace(location.pathname); });
  $('#signin-btn').addEventListener('click', () => login(location.href));
  window.addEventListener('popstate', () => route().catch(fail));
  setupDrop();

  if (!tokens()) { showSignin(); return; }
  try {
    await api.init();
    state.root = await api.root();
    state.path = [state.root];
    refreshQuota();
    await route();
    const left = interrupted();
    if (left.length) {
      status('Unfinished upload' + (left.length === 1 ? '' : 's') + ': ' + left.join(', ') +
        '. Upload the same file' + (left.length === 1 ? '' : 's') + ' to the same folder again to go on where it stopped.');
      $('#status').dataset.hint = '1';
    }
    document.body.dataset.ready = '1';
  } catch (e) {
    fail(e);
  }
}

async function route() {
  const q = new URLSearchParams(location.search);
  if (q.has('trash')) { await openTrash(); return; }
  const id = q.get('folder');
  if (id && id !== state.root.id) {
    const path = await pathTo(id);
    state.path = path.slice(0, -1);
    await openFolder(path[path.length - 1], { push: false });
    return;
  }
  await openFolder(state.root, { push: false });
}

let reloadTimer;
function scheduleReload() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => list.reload().catch(fail), 150);
}

function setView(v) {
  localStorage.setItem('clouddrive.view', v);
  $('#view-list').setAttribute('aria-pressed', String(v === 'list'));
  $('#view-grid').setAttribute('aria-pressed', String(v === 'grid'));
  list.setView(v);
}

start();
