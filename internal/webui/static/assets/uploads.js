// Uploads: a queue of files (with the folders they sit in) uploaded two at
// a time with XMLHttpRequest, with per-file and total progress, cancel,
// and a choice on name conflicts (keep both, replace, skip). Files above
// tus.THRESHOLD go through the resumable tus protocol (tus.js), with
// pause and resume.
import { APIError } from './api.js';
import { THRESHOLD, upload as tusUpload } from './tus.js';
import { h, $, formatBytes, dialog } from './util.js';

const PARALLEL = 2;

export class Uploads {
  constructor(api, { onDone, explain }) {
    this.api = api;
    this.onDone = onDone;
    this.explain = explain;
    this.items = [];
    this.running = 0;
    this.dirs = new Map();
    this.policy = null; // conflict choice applied to every later conflict
    this.asking = Promise.resolve();
    // Resumable uploads that paused because the connection stayed down go
    // on when the browser is online again.
    window.addEventListener('online', () => {
      for (const i of this.items) if (i.state === 'uploading' && i.stalled) this.togglePause(i);
    });
    $('#uploads-cancel').addEventListener('click', () => this.cancelAll());
    $('#uploads-close').addEventListener('click', () => {
      if (this.items.some((i) => i.state === 'queued' || i.state === 'uploading')) return;
      this.items = [];
      $('#uploads-list').replaceChildren();
      $('#uploads').hidden = true;
    });
  }

  // add queues entries [{file, path} | {dir: true, path}] for parent.
  add(entries, parent) {
    if (!entries.length) return;
    $('#uploads').hidden = false;
    if (!this.items.some((i) => i.state === 'queued' || i.state === 'uploading')) {
      // A new batch: forget the finished one and its conflict choice.
      this.policy = null;
      this.items = [];
      $('#uploads-list').replaceChildren();
    }
    for (const e of entries) {
      const parts = e.path.split('/').filter(Boolean);
      if (e.dir) {
        this.dir(parent.id, parts).catch(() => {});
        continue;
      }
      const name = parts.pop() || e.file.name;
      const item = { file: e.file, name, dirs: parts, parent: parent.id, state: 'queued', loaded: 0, total: e.file.size, abort: null };
      item.bar = h('progress', { max: Math.max(1, e.file.size), value: 0, 'aria-label': 'Progress of ' + name });
      item.stateEl = h('span', { class: 'state small' }, 'Waiting');
      item.cancel = h('button', { type: 'button', 'aria-label': 'Cancel ' + name, onclick: () => this.cancel(item) }, 'Cancel');
      item.pauseBtn = h('button', { type: 'button', class: 'pause', 'aria-label': 'Pause ' + name, onclick: () => this.togglePause(item) }, 'Pause');
      item.pauseBtn.hidden = true;
      item.li = h('li', { dataset: { name } }, h('span', { class: 'fname', title: e.path }, e.path),
        h('span', { class: 'acts' }, item.pauseBtn, item.cancel), item.bar, item.stateEl);
      $('#uploads-list').append(item.li);
      this.items.push(item);
    }
    this.update();
    this.pump();
  }

  pump() {
    while (this.running < PARALLEL) {
      const item = this.items.find((i) => i.state === 'queued');
      if (!item) break;
      this.running++;
      item.state = 'uploading';
      this.run(item).finally(() => {
        this.running--;
        this.update();
        this.pump();
      });
    }
  }

  // dir returns the id of the folder at path parts below parentId,
  // creating the missing ones (an existing folder of that name is used).
  dir(parentId, parts) {
    if (!parts.length) return Promise.resolve(parentId);
    const key = parentId + '\u0000' + parts.join('/');
    if (!this.dirs.has(key)) {
      const p = this.dir(parentId, parts.slice(0, -1)).then(async (pid) => {
        try {
          return (await this.api.createFolder(parts[parts.length - 1], pid)).id;
        } catch (e) {
          if (e instanceof APIError && e.status === 409 && e.nodeId) {
            const n = await this.api.node(e.nodeId);
            if (n.kind === 'FOLDER') return n.id;
          }
          throw e;
        }
      });
      p.catch(() => this.dirs.delete(key));
      this.dirs.set(key, p);
    }
    return this.dirs.get(key);
  }

  async run(item) {
    const progress = (loaded) => { item.loaded = loaded; item.bar.value = loaded; this.update(); };
    try {
      item.stateEl.textContent = 'Uploading';
      const parent = await this.dir(item.parent, item.dirs);
      if (item.state === 'cancelled') return;
      let name = item.name;
      for (let attempt = 1; ; attempt++) {
        try {
          await this.send(item, { name, parent }, progress);
          break;
        } catch (e) {
          if (!(e instanceof APIError) || e.status !== 409 || e.code !== 'NAME_ALREADY_EXISTS' || attempt > 50) throw e;
          progress(0);
          const choice = attempt === 1 ? await this.conflict(item) : 'rename';
          if (choice === 'skip') { this.finish(item, 'skipped', 'Skipped'); return; }
          if (choice === 'replace') {
            await this.send(item, { nodeId: e.nodeId }, progress);
            break;
          }
          name = numbered(item.name, attempt);
        }
      }
      this.finish(item, 'done', name === item.name ? 'Done' : 'Done as ' + name);
      this.onDone(item.parent);
    } catch (e) {
      if (e.cancelled || item.state === 'cancelled') { this.finish(item, 'cancelled', 'Cancelled'); return; }
      this.finish(item, 'error', this.explain(e), true);
      if (e instanceof APIError && (e.code === 'QUOTA_EXCEEDED' || e.status === 403)) this.onDone(item.parent);
    }
  }

  // send makes one transfer of item's file to target ({name, parent} for
  // a new file, {nodeId} to overwrite one): tus above the threshold, else
  // one multipart request. It resolves when the node is stored.
  send(item, target, progress) {
    item.tus = null;
    if (item.file.size > THRESHOLD) {
      const up = tusUpload(this.api.content, item.file, target, {
        progress,
        state: (text) => { if (!item.paused) item.stateEl.textContent = text; },
        stalled: (text) => this.setPaused(item, true, text, true),
        resumed: () => { item.li.dataset.resumed = '1'; item.stateEl.textContent = 'Resuming'; },
      });
      item.tus = up;
      item.abort = up.cancel;
      item.pauseBtn.hidden = false;
      return up.promise;
    }
    const up = target.nodeId ? this.api.overwrite(target.nodeId, item.file, progress)
      : this.api.upload(item.file, target.parent, target.name, progress);
    item.abort = up.abort;
    return up.promise;
  }

  // togglePause pauses a resumable upload (the server keeps what it has)
  // or resumes it.
  togglePause(item) {
    if (!item.tus || item.state !== 'uploading') return;
    if (item.paused) {
      this.setPaused(item, false, 'Resuming');
      item.tus.resume();
    } else {
      item.tus.pause();
      this.setPaused(item, true, 'Paused');
    }
  }

  setPaused(item, paused, text, stalled = false) {
    item.paused = paused;
    item.stalled = paused && stalled;
    item.li.dataset.paused = paused ? '1' : '';
    item.pauseBtn.textContent = paused ? 'Resume' : 'Pause';
    item.pauseBtn.setAttribute('aria-label', (paused ? 'Resume ' : 'Pause ') + item.name);
    item.stateEl.textContent = text;
  }

  finish(item, st, text, error = false) {
    item.state = st;
    item.paused = item.stalled = false;
    item.stateEl.textContent = text;
    item.stateEl.classList.toggle('error', error);
    item.cancel.hidden = true;
    item.pauseBtn.hidden = true;
    if (st === 'done') { item.loaded = item.total; item.bar.value = item.bar.max; }
    this.update();
  }

  // conflict asks what to do about a name that exists; one question at a
  // time, and "for all" answers later conflicts too.
  conflict(item) {
    const ask = this.asking.then(() => this.policy || dialog('“' + item.name + '” already exists', (dlg, close) => {
      const all = h('input', { type: 'checkbox', id: 'conflict-all' });
      const pick = (c) => { if (all.checked) this.policy = c; close(c); };
      dlg.append(h('p', {}, 'An item with this name is already in the folder.'),
        h('label', {}, all, ' Do this for every conflict in this upload'),
        h('div', { class: 'buttons' },
          h('button', { type: 'button', id: 'conflict-skip', onclick: () => pick('skip') }, 'Skip'),
          h('button', { type: 'button', id: 'conflict-replace', onclick: () => pick('replace') }, 'Replace'),
          h('button', { type: 'button', id: 'conflict-rename', class: 'primary', onclick: () => pick('rename') }, 'Keep both')));
    }).then((c) => c || 'skip'));
    this.asking = ask.catch(() => {});
    return ask;
  }

  cancel(item) {
    if (item.state === 'queued') { this.finish(item, 'cancelled', 'Cancelled'); return; }
    if (item.state === 'uploading') {
      item.state = 'cancelled';
      if (item.abort) item.abort();
    }
  }

  cancelAll() { for (const i of this.items) this.cancel(i); }

  update() {
    const active = this.items.filter((i) => i.state !== 'cancelled' && i.state !== 'skipped' && i.state !== 'error');
    const failed = this.items.filter((i) => i.state === 'error').length;
    const total = active.reduce((s, i) => s + i.total, 0), loaded = active.reduce((s, i) => s + Math.min(i.loaded, i.total), 0);
    const done = this.items.filter((i) => i.state === 'done').length;
    const pending = this.items.filter((i) => i.state === 'queued' || i.state === 'uploading').length;
    const bar = $('#uploads-total');
    bar.max = Math.max(1, total);
    bar.value = loaded;
    $('#uploads-title').textContent = pending ? 'Uploading ' + pending + ' file' + (pending === 1 ? '' : 's')
      : failed ? failed + ' upload' + (failed === 1 ? '' : 's') + ' failed' : 'Uploads finished';
    $('#uploads-total-text').textContent = formatBytes(loaded) + ' of ' + formatBytes(total) + ' · ' + done + '/' + this.items.length + ' done';
    $('#uploads-cancel').hidden = !pending;
    document.body.dataset.uploading = String(pending);
  }
}

// numbered returns "name (k).ext".
export function numbered(name, k) {
  const i = name.lastIndexOf('.');
  return i > 0 ? name.slice(0, i) + ' (' + k + ')' + name.slice(i) : name + ' (' + k + ')';
}
