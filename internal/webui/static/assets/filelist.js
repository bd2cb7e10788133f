// FileList is a virtualised listing of nodes (list or grid): only the rows
// in view exist in the DOM, and pages of 200 are fetched with nextToken as
// the user scrolls, so a folder of 10,000 files stays smooth. Thumbnails of
// images in view are fetched with the token (a few at a time) and shown
// from blob: URLs.
import { h, formatBytes, formatDate, extension, isImage } from './util.js';

const ROW = 44, HEAD = 32, CELL_W = 168, CELL_H = 198, OVERSCAN = 6, THUMB_CACHE = 400, THUMB_PARALLEL = 4;

export class FileList {
  // opts: onOpen(node) for folders, onActivate(node) for files,
  // onSelection(nodes), selectable(node) -> bool, single (one selection),
  // onKey(key, node) for Delete/F2, empty (text when nothing is listed).
  constructor(api, el, opts = {}) {
    this.api = api;
    this.el = el;
    this.opts = opts;
    this.view = 'list';
    this.items = [];
    this.count = 0;
    this.next = undefined;
    this.gen = 0;
    this.selected = new Map();
    this.thumbs = new Map();
    this.queue = [];
    this.inflight = new Set();
    this.focusIndex = 0;
    el.classList.add('list');
    el.setAttribute('role', 'list');
    el.setAttribute('aria-label', opts.label || 'Files');
    this.spacer = h('div', { class: 'spacer' });
    this.head = h('div', { class: 'row head', 'aria-hidden': 'true' },
      h('span', { style: 'width:20px' }), h('span', { style: 'width:32px' }), h('span', { class: 'name' }, 'Name'),
      h('span', { class: 'size' }, 'Size'), h('span', { class: 'date' }, 'Modified'));
    el.append(this.head, this.spacer);
    el.addEventListener('scroll', () => this.schedule());
    new ResizeObserver(() => this.schedule()).observe(el);
    el.addEventListener('keydown', (e) => this.onKey(e));
  }

  setView(v) {
    this.view = v;
    this.el.classList.toggle('grid', v === 'grid');
    this.head.hidden = v === 'grid';
    this.schedule();
  }

  // load starts a listing: fetchPage(startToken) returns {data, count, nextToken}.
  // While it loads, the list is aria-busy (assistive technology waits for
  // the new rows; so do the browser tests).
  async load(fetchPage) {
    const gen = ++this.gen;
    this.el.setAttribute('aria-busy', 'true');
    this.fetchPage = fetchPage;
    this.items = [];
    this.count = 0;
    this.next = undefined;
    this.loading = null;
    this.selected.clear();
    this.focusIndex = 0;
    this.el.scrollTop = 0;
    this.notify();
    try {
      await this.more();
      this.render();
    } finally {
      if (gen === this.gen) this.el.removeAttribute('aria-busy');
    }
  }

  more() {
    if (this.loading) return this.loading;
    if (this.next === null) return Promise.resolve();
    const gen = this.gen;
    this.loading = (async () => {
      try {
        const page = await this.fetchPage(this.next);
        if (gen !== this.gen) return;
        this.items.push(...page.data);
        this.next = page.nextToken || null;
        this.count = this.next ? Math.max(page.count || 0, this.items.length) : this.items.length;
      } catch (e) {
        if (gen === this.gen) {
          this.next = null;
          this.count = this.items.length;
          if (this.opts.onError) this.opts.onError(e);
        }
      } finally {
        if (gen === this.gen) this.loading = null;
      }
      this.schedule();
    })();
    return this.loading;
  }

  // reload fetches the listing again, keeping the scroll position.
  async reload() {
    const top = this.el.scrollTop;
    const sel = new Map(this.selected);
    await this.load(this.fetchPage);
    while (this.next && this.items.length * this.rowHeight() / this.cols() < top + this.el.clientHeight) await this.more();
    for (const [id] of sel) {
      const n = this.items.find((x) => x.id === id);
      if (n) this.selected.set(id, n);
    }
    this.el.scrollTop = top;
    this.notify();
    this.render();
  }

  // remove drops nodes from the listing without a reload.
  remove(ids) {
    const set = new Set(ids);
    const before = this.items.length;
    this.items = this.items.filter((n) => !set.has(n.id));
    this.count -= before - this.items.length;
    for (const id of ids) this.selected.delete(id);
    this.notify();
    this.schedule();
  }

  // update replaces a node in the listing.
  update(node) {
    const i = this.items.findIndex((n) => n.id === node.id);
    if (i >= 0) this.items[i] = node;
    if (this.selected.has(node.id)) this.selected.set(node.id, node);
    this.schedule();
  }

  cols() { return this.view === 'grid' ? Math.max(1, Math.floor((this.el.clientWidth - 16) / CELL_W)) : 1; }
  rowHeight() { return this.view === 'grid' ? CELL_H : ROW; }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = null; this.render(); });
  }

  render() {
    const cols = this.cols(), rh = this.rowHeight();
    const rows = Math.ceil(this.count / cols);
    const offset = this.view === 'grid' ? 8 : 0;
    this.spacer.style.height = (rows * rh + offset * 2) + 'px';
    const top = Math.max(0, this.el.scrollTop - (this.view === 'grid' ? 0 : HEAD));
    const first = Math.max(0, Math.floor(top / rh) - OVERSCAN);
    const last = Math.min(rows, Math.ceil((top + this.el.clientHeight) / rh) + OVERSCAN);
    const from = first * cols, to = Math.min(this.count, last * cols);
    if (to > this.items.length && this.next) this.more();
    const hadFocus = this.el.contains(document.activeElement) && document.activeElement !== this.el;
    const focusClass = hadFocus ? document.activeElement.className : '';
    const frag = document.createDocumentFragment();
    for (let i = from; i < to; i++) {
      const n = this.items[i];
      const r = Math.floor(i / cols), c = i % cols;
      const el = n ? this.item(n, i) : h('div', { class: this.view === 'grid' ? 'cell' : 'row' }, h('span', { class: 'muted' }, 'Loading…'));
      if (this.view === 'grid') {
        el.style.top = (offset + r * rh) + 'px';
        el.style.left = (8 + c * CELL_W) + 'px';
      } else {
        el.style.top = (r * rh) + 'px';
      }
      frag.append(el);
    }
    this.spacer.replaceChildren(frag);
    if (this.count === 0 && this.next === null) {
      this.spacer.replaceChildren(h('p', { class: 'empty' }, this.opts.empty || 'This folder is empty.'));
    }
    if (hadFocus) {
      const row = this.spacer.querySelector(`[data-index="${this.focusIndex}"]`);
      const target = row && (row.querySelector('.' + (focusClass.split(' ')[0] || 'name')) || row.querySelector('.name'));
      if (target) target.focus({ preventScroll: true });
    }
    this.pump();
  }

  item(n, i) {
    const grid = this.view === 'grid';
    const sel = this.selected.has(n.id);
    const selectable = !this.opts.selectable || this.opts.selectable(n);
    const folder = n.kind === 'FOLDER';
    const thumb = isImage(n) ? this.thumb(n) : null;
    const badge = folder ? (grid ? 'Folder' : 'DIR') : (extension(n.name || '') || 'file');
    const icon = h('div', { class: (grid ? 'thumb' : 'icon') + (folder ? ' folder' : '') + (isImage(n) ? ' image' : ''), 'aria-hidden': 'true' },
      thumb ? thumbImg(thumb) : badge);
    const box = h('input', {
      type: 'checkbox', class: 'check', checked: sel, disabled: !selectable, 'aria-label': 'Select ' + (n.name || 'root'),
      onchange: (e) => this.toggle(n, e.target.checked),
    });
    const name = h('button', {
      type: 'button', class: 'name', title: n.name,
      'aria-label': (folder ? 'Folder ' : 'File ') + (n.name || ''),
      onclick: () => { this.focusIndex = i; folder ? this.opts.onOpen && this.opts.onOpen(n) : this.activate(n); },
      onfocus: () => { this.focusIndex = i; },
    }, n.name || '(root)');
    const size = n.contentProperties ? formatBytes(n.contentProperties.size) : '';
    const attrs = { class: (grid ? 'cell' : 'row') + (sel ? ' selected' : ''), role: 'listitem', dataset: { id: n.id, name: n.name || '', index: String(i), kind: n.kind } };
    if (grid) return h('div', attrs, icon, h('div', { class: 'line' }, box, name), h('div', { class: 'small muted' }, folder ? 'Folder' : size));
    return h('div', attrs, box, icon, name, h('span', { class: 'size' }, size), h('span', { class: 'date' }, formatDate(n.modifiedDate)));
  }

  activate(n) {
    if (this.opts.onActivate) this.opts.onActivate(n);
    else this.toggle(n, !this.selected.has(n.id));
  }

  toggle(n, on) {
    if (this.opts.selectable && !this.opts.selectable(n)) return;
    if (on) {
      if (this.opts.single) this.selected.clear();
      this.selected.set(n.id, n);
    } else {
      this.selected.delete(n.id);
    }
    this.notify();
    this.schedule();
  }

  clearSelection() { this.selected.clear(); this.notify(); this.schedule(); }
  selection() { return [...this.selected.values()]; }
  notify() { if (this.opts.onSelection) this.opts.onSelection(this.selection()); }

  onKey(e) {
    const cols = this.cols();
    const moves = { ArrowDown: cols, ArrowUp: -cols, ArrowRight: this.view === 'grid' ? 1 : 0, ArrowLeft: this.view === 'grid' ? -1 : 0, Home: -Infinity, End: Infinity };
    if (e.key in moves && moves[e.key] !== 0) {
      e.preventDefault();
      let i = this.focusIndex + moves[e.key];
      i = Math.max(0, Math.min(this.count - 1, isFinite(i) ? i : (moves[e.key] > 0 ? this.count - 1 : 0)));
      this.focusIndex = i;
      const rh = this.rowHeight(), top = Math.floor(i / cols) * rh + (this.view === 'grid' ? 0 : HEAD);
      if (top < this.el.scrollTop + HEAD) this.el.scrollTop = top - HEAD;
      else if (top + rh > this.el.scrollTop + this.el.clientHeight) this.el.scrollTop = top + rh - this.el.clientHeight;
      this.render();
      const row = this.spacer.querySelector(`[data-index="${i}"] .name`);
      if (row) row.focus();
      return;
    }
    const n = this.items[this.focusIndex];
    if (!n) return;
    if (e.key === ' ' && e.target.classList.contains('name')) {
      e.preventDefault();
      this.toggle(n, !this.selected.has(n.id));
    } else if ((e.key === 'Delete' || e.key === 'F2') && this.opts.onKey) {
      e.preventDefault();
      this.opts.onKey(e.key, n);
    }
  }

  // thumb returns a blob: URL for n's thumbnail, or null and queues it.
  thumb(n) {
    const key = n.id + ':' + ((n.contentProperties && n.contentProperties.version) || n.version);
    const url = this.thumbs.get(key);
    if (url) return url;
    if (url === undefined && !this.inflight.has(key) && !this.queue.some((q) => q.key === key)) this.queue.push({ key, id: n.id });
    return null;
  }

  // showThumb puts a thumbnail that arrived into the rows on screen in
  // place. A full render would replace every row, and a click whose press
  // and release straddle that loses its target (a checkbox that does not
  // check).
  showThumb(id, url) {
    for (const icon of this.spacer.querySelectorAll(`[data-id="${CSS.escape(id)}"] .image`)) {
      icon.replaceChildren(thumbImg(url));
    }
  }

  pump() {
    while (this.inflight.size < THUMB_PARALLEL && this.queue.length) {
      const { key, id } = this.queue.pop();
      // Only rows still in view are worth fetching.
      if (!this.spacer.querySelector(`[data-id="${CSS.escape(id)}"]`)) continue;
      this.inflight.add(key);
      this.api.blob(this.api.thumbnailURL(id)).then((b) => {
        const url = URL.createObjectURL(b);
        this.thumbs.set(key, url);
        if (this.thumbs.size > THUMB_CACHE) {
          const [oldKey, oldURL] = this.thumbs.entries().next().value;
          this.thumbs.delete(oldKey);
          if (oldURL) URL.revokeObjectURL(oldURL);
        }
        this.showThumb(id, url);
      }, () => this.thumbs.set(key, null)).finally(() => {
        this.inflight.delete(key);
        this.pump();
      });
    }
    this.queue.length = Math.min(this.queue.length, 200);
  }
}

// thumbImg is the image of a row's thumbnail.
function thumbImg(url) {
  return h('img', { class: 'thumb-img', src: url, alt: '', draggable: 'false' });
}
