// DOM helpers shared by the UI and the picker. No innerHTML with data:
// every text goes through textContent.

// h builds an element: h('button', {type: 'button', onclick}, 'text', child).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

export function formatBytes(n) {
  if (n === undefined || n === null) return '';
  const u = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)) + ' ' + u[i];
}

export function formatDate(s) {
  if (!s) return '';
  const d = new Date(s);
  return d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' }) + ' ' +
    d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

export function extension(name) {
  const i = name.lastIndexOf('.');
  return i > 0 ? name.slice(i + 1).slice(0, 4) : '';
}

export function isImage(n) {
  const ct = (n.contentProperties && n.contentProperties.contentType) || '';
  return n.kind === 'FILE' && (ct.startsWith('image/') || /\.(png|jpe?g|gif|webp|bmp|svg)$/i.test(n.name || ''));
}

// dialog shows a modal <dialog> built by build(dlg, close) and resolves
// with the value passed to close (undefined on Escape).
export function dialog(title, build, { label } = {}) {
  return new Promise((resolve) => {
    const dlg = h('dialog', { 'aria-label': label || title });
    let done = false;
    const close = (v) => {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    dlg.append(h('h2', {}, title));
    build(dlg, close);
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); close(undefined); });
    document.body.append(dlg);
    dlg.showModal();
    const first = dlg.querySelector('[autofocus], input, select, button.primary, button');
    if (first) first.focus();
  });
}

// ask asks for a line of text.
export function ask(title, { label = 'Name', value = '', ok = 'OK', select } = {}) {
  return dialog(title, (dlg, close) => {
    const input = h('input', { type: 'text', id: 'dlg-input', value, autocomplete: 'off', required: true, spellcheck: 'false' });
    const form = h('form', { method: 'dialog', onsubmit: (e) => { e.preventDefault(); if (input.value.trim()) close(input.value.trim()); } },
      h('label', { for: 'dlg-input' }, label), input,
      h('div', { class: 'buttons' },
        h('button', { type: 'button', onclick: () => close(undefined) }, 'Cancel'),
        h('button', { type: 'submit', class: 'primary', id: 'dlg-ok' }, ok)));
    dlg.append(form);
    setTimeout(() => {
      input.focus();
      if (select) input.setSelectionRange(0, select);
      else input.select();
    });
  });
}

// confirmDialog asks yes or no.
export function confirmDialog(title, text, ok = 'OK') {
  return dialog(title, (dlg, close) => {
    dlg.append(h('p', {}, text), h('div', { class: 'buttons' },
      h('button', { type: 'button', onclick: () => close(false) }, 'Cancel'),
      h('button', { type: 'button', class: 'primary', id: 'dlg-ok', autofocus: true, onclick: () => close(true) }, ok)));
  });
}

export function blobDownload(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
