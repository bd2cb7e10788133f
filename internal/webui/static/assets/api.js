// A small client of clouddrive's public API (the ACD REST API plus share
// links and archives), used by the UI and the picker.
import { accessToken, refresh, baseURL, AuthError } from './auth.js';

export class APIError extends Error {
  constructor(status, body) {
    super((body && body.message) || 'request failed with status ' + status);
    this.status = status;
    this.code = body && body.code;
    this.nodeId = body && body.info && body.info.nodeId;
  }
}

// escapeFilter escapes a value for the filters= language.
export function escapeFilter(s) {
  return s.replace(/[+\-&|!(){}\[\]^'"~*?:\\ ]/g, (c) => '\\' + c);
}

export class API {
  constructor() {
    this.base = baseURL();
    this.meta = this.base + 'drive/v1/';
    this.content = this.base + 'cdproxy/';
  }

  // init reads the metadata and content URLs from account/endpoint, as
  // every ACD client does.
  async init() {
    const e = await this.json('GET', this.meta + 'account/endpoint');
    if (e.metadataUrl) this.meta = e.metadataUrl;
    if (e.contentUrl) this.content = e.contentUrl;
    return e;
  }

  // fetch sends an authorised request; a 401 refreshes the token once.
  async fetch(url, opts = {}, retry = true) {
    const headers = new Headers(opts.headers || {});
    headers.set('Authorization', 'Bearer ' + await accessToken());
    const res = await fetch(url, { ...opts, headers });
    if (res.status === 401 && retry) {
      await refresh();
      return this.fetch(url, opts, false);
    }
    if (res.status === 401) throw new AuthError('session expired');
    return res;
  }

  async json(method, url, body, extra = {}) {
    const opts = { method, ...extra };
    if (body !== undefined) {
      opts.body = JSON.stringify(body);
      opts.headers = { 'Content-Type': 'application/json' };
    }
    const res = await this.fetch(url, opts);
    if (res.status === 204) return null;
    const j = await res.json().catch(() => null);
    if (!res.ok) throw new APIError(res.status, j);
    return j;
  }

  q(params) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '' && v !== null) p.set(k, v);
    const s = p.toString();
    return s ? '?' + s : '';
  }

  async root() {
    const l = await this.json('GET', this.meta + 'nodes' + this.q({ filters: 'isRoot:true' }));
    return l.data[0];
  }
  node(id, tempLink) { return this.json('GET', this.meta + 'nodes/' + encodeURIComponent(id) + (tempLink ? '?tempLink=true' : '')); }
  children(id, { sort, filters, startToken, limit } = {}) {
    return this.json('GET', this.meta + 'nodes/' + encodeURIComponent(id) + '/children' + this.q({ sort, filters, startToken, limit }));
  }
  nodes({ sort, filters, startToken, limit } = {}) {
    return this.json('GET', this.meta + 'nodes' + this.q({ sort, filters, startToken, limit }));
  }
  trashList({ sort, startToken } = {}) { return this.json('GET', this.meta + 'trash' + this.q({ sort, startToken })); }
  createFolder(name, parent) { return this.json('POST', this.meta + 'nodes', { name, kind: 'FOLDER', parents: [parent] }); }
  patch(id, body) { return this.json('PATCH', this.meta + 'nodes/' + encodeURIComponent(id), body); }
  move(id, fromParent, toParent) {
    return this.json('POST', this.meta + 'nodes/' + encodeURIComponent(toParent) + '/children', { fromParent, childId: id });
  }
  trash(id) { return this.json('PUT', this.meta + 'trash/' + encodeURIComponent(id)); }
  restore(id) { return this.json('POST', this.meta + 'trash/' + encodeURIComponent(id) + '/restore'); }
  purge(id) { return this.json('DELETE', this.meta + 'nodes/' + encodeURIComponent(id)); }
  quota() { return this.json('GET', this.meta + 'account/quota'); }

  // Share links (clouddrive extension).
  createLink(id, { expiresAt, password } = {}) {
    const body = {};
    if (expiresAt) body.expiresAt = expiresAt;
    if (password) body.password = password;
    return this.json('POST', this.meta + 'nodes/' + encodeURIComponent(id) + '/links', body);
  }
  links(id) { return this.json('GET', this.meta + (id ? 'nodes/' + encodeURIComponent(id) + '/links' : 'links')); }
  deleteLink(linkId) { return this.json('DELETE', this.meta + 'links/' + encodeURIComponent(linkId)); }

  // blob fetches content (a thumbnail, a file, an archive) with the token.
  async blob(url, signal) {
    const res = await this.fetch(url, { signal });
    if (!res.ok) throw new APIError(res.status, await res.json().catch(() => null));
    return res.blob();
  }
  thumbnailURL(id, size = 250) { return this.content + 'nodes/' + encodeURIComponent(id) + '/content?viewBox=' + size; }
  contentURL(id) { return this.content + 'nodes/' + encodeURIComponent(id) + '/content'; }
  archiveURL(id) { return this.content + 'nodes/' + encodeURIComponent(id) + '/archive'; }

  // send uploads with XMLHttpRequest, the only API with upload progress.
  // It returns {promise, abort}; the promise resolves to the node or
  // rejects with an APIError (status 0 when aborted or offline).
  send(method, url, form, onProgress) {
    const xhr = new XMLHttpRequest();
    let aborted = false;
    const promise = (async () => {
      for (let attempt = 0; ; attempt++) {
        const token = await accessToken();
        if (aborted) throw Object.assign(new APIError(0, { message: 'cancelled' }), { cancelled: true });
        const res = await new Promise((resolve) => {
          xhr.open(method, url);
          xhr.setRequestHeader('Authorization', 'Bearer ' + token);
          xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded, e.total); };
          xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
          xhr.onerror = () => resolve({ status: 0, text: '' });
          xhr.onabort = () => resolve({ status: 0, text: '', aborted: true });
          xhr.send(form);
        });
        let body = null;
        try { body = JSON.parse(res.text); } catch { /* not JSON */ }
        if (res.aborted) throw Object.assign(new APIError(0, { message: 'cancelled' }), { cancelled: true });
        if (res.status === 401 && attempt === 0) { await refresh(); continue; }
        if (res.status < 200 || res.status >= 300) throw new APIError(res.status, body || { message: res.status ? 'status ' + res.status : 'network error' });
        return body;
      }
    })();
    return { promise, abort: () => { aborted = true; xhr.abort(); } };
  }

  // upload and overwrite send the file's modification time
  // (contentProperties.mtime) as the browser knows it.
  upload(file, parent, name, onProgress) {
    const form = new FormData();
    const meta = { name, kind: 'FILE', parents: [parent] };
    if (file.lastModified) meta.mtime = new Date(file.lastModified).toISOString();
    form.append('metadata', JSON.stringify(meta));
    form.append('content', file, name);
    // A web user expects two copies of a file to be two files.
    return this.send('POST', this.content + 'nodes?suppress=deduplication', form, onProgress);
  }

  overwrite(id, file, onProgress) {
    const form = new FormData();
    form.append('content', file, file.name);
    const q = file.lastModified ? '?mtime=' + encodeURIComponent(new Date(file.lastModified).toISOString()) : '';
    return this.send('PUT', this.content + 'nodes/' + encodeURIComponent(id) + '/content' + q, form, onProgress);
  }
}
