// Resumable uploads with the tus protocol (https://tus.io), through the
// vendored tus-js-client (vendor/tus-js-client, loaded on first use):
// POST {contentUrl}uploads/ creates an upload with the node's metadata, PATCH
// sends the bytes in chunks. A lost connection is retried (HEAD tells the
// offset the server has, the upload goes on from there); the upload URL is
// kept in localStorage under the file's fingerprint, so choosing the same
// file for the same folder again, after a reload or a crash, resumes it.
import { accessToken, refresh, AuthError } from './auth.js';
import { APIError } from './api.js';

// THRESHOLD: files above it go through tus, smaller ones in one multipart
// POST (one request, no state kept).
export const THRESHOLD = 64 * 1024 * 1024;

// CHUNK is the size of one PATCH: small enough for proxies that buffer
// or bound request bodies, large enough for few requests.
const CHUNK = 32 * 1024 * 1024;

// RETRY_DELAYS: a lost connection is retried after these pauses (ms); the
// count starts again once bytes go through. After the last one the upload
// pauses, and goes on when the browser is online again or Resume is pressed.
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000];

// PREFIX starts the fingerprints of this UI's uploads (tus-js-client keeps
// them in localStorage as "tus::<fingerprint>::<key>").
const PREFIX = 'clouddrive.tus ';

let loaded = null;
function client() {
  loaded ||= import('./vendor/tus-js-client/tus.min.js').then(() => {
    if (!window.tus || !window.tus.isSupported) throw new Error('this browser cannot upload resumably');
    return window.tus;
  });
  return loaded;
}

// fingerprint names a file and where it goes: the same file chosen again
// for the same target resumes; for another folder or name it starts anew.
function fingerprint(file, endpoint, target) {
  return PREFIX + JSON.stringify([endpoint, target.nodeId || target.parent, target.nodeId ? '' : target.name,
    file.name, file.type, file.size, file.lastModified]);
}

// bodyOf returns the API's error body of res ({code, message, ...}: a
// decision of the server, not a transient failure), or null.
function bodyOf(res) {
  try { return JSON.parse(res.getBody()); } catch { return null; }
}

// upload sends file to target ({name, parent} for a new file, {nodeId}
// to overwrite one) and returns a handle:
//   promise  resolves to {id} (the node) or rejects with an APIError
//            (a cancelled one has .cancelled) or an AuthError;
//   cancel() stops and deletes the upload on the server;
//   pause() / resume() stop and go on (the server keeps the bytes).
// on.progress(loaded), on.state(text) report to the page; on.stalled(text)
// says the upload paused by itself (the connection stayed down).
export function upload(contentURL, file, target, on) {
  const endpoint = contentURL + 'uploads/';
  let up = null, key = null, cancelled = false, needRefresh = false, refreshed = false;
  let settle;
  const promise = new Promise((resolve, reject) => { settle = { resolve, reject }; });
  const fail = (e) => { if (!cancelled) settle.reject(e); };

  const start = async () => {
    const tus = await client();
    const storage = tus.defaultOptions.urlStorage;
    const metadata = target.nodeId ? { nodeId: target.nodeId } : { name: target.name, parents: target.parent, suppress: 'deduplication' };
    if (file.lastModified) metadata.mtime = new Date(file.lastModified).toISOString();
    if (file.type) metadata.contentType = file.type;
    up = new tus.Upload(file, {
      endpoint,
      metadata,
      chunkSize: CHUNK,
      retryDelays: RETRY_DELAYS,
      removeFingerprintOnSuccess: true,
      fingerprint: (f) => Promise.resolve(fingerprint(f, endpoint, target)),
      // The same store, remembering this upload's key so that a final
      // failure can forget it.
      urlStorage: {
        findAllUploads: () => storage.findAllUploads(),
        findUploadsByFingerprint: (fp) => storage.findUploadsByFingerprint(fp),
        removeUpload: (k) => storage.removeUpload(k),
        addUpload: (fp, u) => storage.addUpload(fp, u).then((k) => { key = k; return k; }),
      },
      onBeforeRequest: async (req) => {
        if (needRefresh) { needRefresh = false; await refresh(); }
        req.setHeader('Authorization', 'Bearer ' + await accessToken());
      },
      onShouldRetry: (err) => {
        if (cancelled || err.causingError instanceof AuthError) return false;
        const res = err.originalResponse;
        const st = res ? res.getStatus() : 0;
        if (st === 401) {
          if (refreshed) return false;
          refreshed = needRefresh = true; // once, until bytes go through again
          return true;
        }
        // 409 without the API's error body is tus's offset mismatch: HEAD
        // again. Every other 4xx (name exists, quota, bad metadata) is final.
        const retry = st === 0 || st >= 500 || st === 423 || st === 429 || (st === 409 && !(bodyOf(res) || {}).code);
        if (retry) on.state(st === 0 ? 'Connection lost, retrying…' : 'Server busy, retrying…');
        return retry;
      },
      onProgress: (sent) => { on.progress(sent); on.state('Uploading'); },
      onChunkComplete: () => { refreshed = false; },
      onSuccess: ({ lastResponse }) => settle.resolve({ id: lastResponse && lastResponse.getHeader('Clouddrive-Node-Id') }),
      onError: (err) => {
        if (cancelled) return;
        if (err.causingError instanceof AuthError) { fail(err.causingError); return; }
        const res = err.originalResponse;
        if (!res || res.getStatus() === 0) {
          // The connection stayed down: keep the upload (and its stored
          // URL), wait for the network or the user.
          on.stalled('Connection lost: paused');
          return;
        }
        if (key) storage.removeUpload(key).catch(() => {});
        const st = res.getStatus();
        fail(new APIError(st, bodyOf(res) || { message: 'status ' + st }));
      },
    });
    const previous = (await up.findPreviousUploads()).sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime));
    if (previous.length) {
      up.resumeFromPreviousUpload(previous[0]);
      key = previous[0].urlStorageKey;
      on.resumed();
    }
    if (!cancelled) up.start();
  };
  start().catch((e) => fail(e instanceof APIError || e instanceof AuthError ? e : new APIError(0, { message: e.message || String(e) })));

  return {
    promise,
    cancel() {
      cancelled = true;
      settle.reject(Object.assign(new APIError(0, { message: 'cancelled' }), { cancelled: true }));
      if (up) up.abort(true).catch(() => { if (key) up.options.urlStorage.removeUpload(key).catch(() => {}); });
    },
    pause() { if (up) up.abort(false); },
    resume() { if (up && !cancelled) up.start(); },
  };
}

// interrupted returns the names of this UI's uploads that did not finish
// (their URLs are still stored), for a hint after a reload.
export function interrupted() {
  const names = [];
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i);
    if (!k || !k.startsWith('tus::' + PREFIX)) continue;
    try { names.push(JSON.parse(localStorage.getItem(k)).metadata.name || ''); } catch { /* not ours */ }
  }
  return names.filter(Boolean);
}

// forget removes every stored upload URL (on sign-out: they are of no use
// to another user and name the files).
export function forget() {
  for (let i = localStorage.length - 1; i >= 0; i--) {
    const k = localStorage.key(i);
    if (k && k.startsWith('tus::' + PREFIX)) localStorage.removeItem(k);
  }
}
