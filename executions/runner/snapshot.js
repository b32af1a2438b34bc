// Run by executions/runner/snapshot.py through execute_script; arguments[0] is the element limit.
const limit = arguments[0];
const interactive = 'a[href],button,input:not([type=hidden]),select,textarea,[role=button],[role=link],' +
  '[role=checkbox],[role=tab],[role=menuitem],[contenteditable=true],summary,label';
const textual = 'h1,h2,h3,h4,h5,h6,p,li,td,th,[role=alert],[role=status],output,legend,caption,' +
  '[data-test],[data-testid],[data-test-id],span,div';
const implicitRole = (el) => {
  const tag = el.tagName.toLowerCase();
  const type = (el.getAttribute('type') || '').toLowerCase();
  if (el.getAttribute('role')) return el.getAttribute('role');
  if (tag === 'a') return 'link';
  if (tag === 'button' || (tag === 'input' && ['submit', 'button', 'reset'].includes(type))) return 'button';
  if (tag === 'input' && type === 'checkbox') return 'checkbox';
  if (tag === 'input' && type === 'radio') return 'radio';
  if (tag === 'input' || tag === 'textarea') return 'textbox';
  if (tag === 'select') return 'combobox';
  if (/^h[1-6]$/.test(tag)) return 'heading';
  if (tag === 'li') return 'listitem';
  if (tag === 'label') return 'label';
  return 'text';
};
const clean = (s) => (s || '').replace(/\s+/g, ' ').trim();
const ownText = (el) => clean(Array.from(el.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join(' '));
const accessibleName = (el) => {
  if (el.getAttribute('aria-label')) return clean(el.getAttribute('aria-label'));
  const by = el.getAttribute('aria-labelledby');
  if (by) { const ref = document.getElementById(by); if (ref) return clean(ref.textContent); }
  if (el.id) { const label = document.querySelector('label[for="' + CSS.escape(el.id) + '"]'); if (label) return clean(label.textContent); }
  const wrapping = el.closest('label'); if (wrapping && wrapping !== el) return clean(wrapping.textContent);
  const tag = el.tagName.toLowerCase();
  if (tag === 'input' && ['submit', 'button', 'reset'].includes((el.type || '').toLowerCase())) return clean(el.value);
  if (tag === 'input' || tag === 'textarea') return clean(el.getAttribute('placeholder') || el.getAttribute('title'));
  if (tag === 'img') return clean(el.getAttribute('alt'));
  return clean(el.innerText || el.textContent).slice(0, 120);
};
const visible = (el) => {
  const r = el.getBoundingClientRect();
  const st = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && st.visibility !== 'hidden' && st.display !== 'none';
};
const unique = (css) => { try { return document.querySelectorAll(css).length === 1; } catch (e) { return false; } };
const cssPath = (el) => {
  const parts = [];
  while (el && el.nodeType === 1 && el !== document.body && parts.length < 5) {
    let part = el.tagName.toLowerCase();
    if (el.id) { parts.unshift('#' + CSS.escape(el.id)); break; }
    const siblings = el.parentElement ? Array.from(el.parentElement.children).filter(s => s.tagName === el.tagName) : [];
    if (siblings.length > 1) part += ':nth-of-type(' + (siblings.indexOf(el) + 1) + ')';
    parts.unshift(part);
    el = el.parentElement;
  }
  return parts.join(' > ');
};
const textCount = (text) => {
  let n = 0;
  for (const el of document.body.querySelectorAll('*')) {
    if (clean(el.textContent) === text && !Array.from(el.children).some(c => clean(c.textContent) === text)) n++;
    if (n > 1) break;
  }
  return n;
};
const candidates = (el, role, name) => {
  const out = [];
  const add = (selector_type, selector, isUnique, stability) => out.push({selector_type, selector, unique: isUnique, stability});
  if (el.id && /^[A-Za-z][\w-]*$/.test(el.id)) add('id', el.id, document.querySelectorAll('#' + CSS.escape(el.id)).length === 1, 'id');
  for (const attr of el.getAttributeNames()) {
    if (/^data-test/.test(attr)) {
      const css = '[' + attr + '="' + el.getAttribute(attr).replace(/"/g, '\\"') + '"]';
      add('css', css, unique(css), 'data-test');
    }
  }
  const nameAttr = el.getAttribute('name');
  if (nameAttr && ['input', 'select', 'textarea', 'button'].includes(el.tagName.toLowerCase())) {
    add('name', nameAttr, document.getElementsByName(nameAttr).length === 1, 'name');
  }
  const text = clean(el.textContent);
  if (role === 'link' && text && text.length <= 80) add('link_text', text, Array.from(document.links).filter(a => clean(a.textContent) === text).length === 1, 'text');
  else if (text && text.length <= 80 && role !== 'textbox' && role !== 'combobox') add('text', text, textCount(text) === 1, 'text');
  const path = cssPath(el);
  if (path) add('css', path, unique(path), 'position');
  return out;
};
const seen = new Set();
const elements = [];
const collect = (el, kind) => {
  if (seen.has(el) || elements.length >= limit) return;
  seen.add(el);
  if (!visible(el)) return;
  const tag = el.tagName.toLowerCase();
  if (kind === 'text') {
    // Containers only count when they carry a test id or text of their own.
    if ((tag === 'div' || tag === 'span') && !ownText(el) && !Array.from(el.attributes).some(a => /^data-test/.test(a.name))) return;
    if (!clean(el.textContent)) return;
  }
  const role = implicitRole(el);
  const name = accessibleName(el);
  const dataTest = {};
  for (const attr of el.getAttributeNames()) if (/^data-test/.test(attr)) dataTest[attr] = el.getAttribute(attr);
  const type = (el.getAttribute('type') || '').toLowerCase();
  const item = {
    tag, role, name, id: el.id || '', name_attr: el.getAttribute('name') || '', type, data_test: dataTest,
    text: clean(el.innerText || el.textContent).slice(0, 160), kind,
    candidates: candidates(el, role, name),
  };
  if (tag === 'input' || tag === 'textarea' || tag === 'select') {
    item.value = type === 'password' ? '' : String(el.value || '').slice(0, 160);
    if (type === 'checkbox' || type === 'radio') item.checked = el.checked;
  }
  if (el.disabled) item.disabled = true;
  elements.push(item);
};
document.querySelectorAll(interactive).forEach(el => collect(el, 'interactive'));
document.querySelectorAll(textual).forEach(el => collect(el, 'text'));
return {url: location.href, title: document.title, elements,
        truncated: elements.length >= limit};
