import { refusalText } from './api-core.js';

// DOM calls only: text goes in through textContent, never markup built from data.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = String(v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== '') node.append(c instanceof Node ? c : String(c));
  return node;
}

export function table(headings, rows, empty = 'none yet') {
  const body = rows.length
    ? rows.map((cells) =>
        el(
          'tr',
          {},
          cells.map((c) => el('td', {}, c)),
        ),
      )
    : [el('tr', {}, el('td', { colspan: headings.length, class: 'note', text: empty }))];
  return el(
    'table',
    {},
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        headings.map((h) => el('th', { text: h })),
      ),
    ),
    el('tbody', {}, body),
  );
}

/** A button whose action's refusal is shown right after it (Approve, Remove…), so a failed click is never silent. */
export function actionButton(label, attrs, action) {
  const error = el('span', { class: 'error', role: 'alert' });
  const button = el('button', { type: 'button', ...attrs, text: label });
  button.addEventListener('click', async () => {
    error.textContent = '';
    button.disabled = true;
    try {
      await action();
    } catch (err) {
      error.textContent = refusalText(err);
    } finally {
      button.disabled = false;
    }
  });
  return el('span', { class: 'action-button' }, button, error);
}

/** The form field a refusal names: `id`, or a part of it (`id member code`, `endpoints.0.path`). */
function fieldOf(field, names) {
  if (!field) return undefined;
  return names.find((n) => field === n || field.startsWith(`${n} `) || field.startsWith(`${n}.`));
}

/**
 * A form whose fields are named (`options`: a select, `multiline`: a textarea, for PEM); on
 * submit it calls `action(values)`. A refusal naming a field is shown next to that field; any
 * other refusal under the form.
 */
export function form(title, fields, submitLabel, action) {
  const inputs = {};
  const errors = {};
  const general = el('p', { class: 'error', role: 'alert' });
  const rows = fields.map((f) => {
    const input = f.options
      ? el(
          'select',
          { name: f.name },
          f.options.map((o) => el('option', { value: o, text: o, selected: o === f.value })),
        )
      : f.multiline
        ? el('textarea', { name: f.name, rows: 4, cols: 48, placeholder: f.placeholder ?? '', text: f.value ?? '' })
        : el('input', { name: f.name, type: f.type ?? 'text', placeholder: f.placeholder ?? '', value: f.value ?? '', autocomplete: f.type === 'password' ? 'current-password' : 'off' });
    inputs[f.name] = input;
    errors[f.name] = el('span', { class: 'error field-error', 'data-field': f.name, role: 'alert' });
    return el('label', {}, el('span', { text: f.label }), input, errors[f.name]);
  });
  const node = el('form', { class: 'action', 'data-form': title }, el('h3', { text: title }), rows, el('button', { type: 'submit', text: submitLabel }), general);
  node.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const e of [...Object.values(errors), general]) e.textContent = '';
    const values = Object.fromEntries(Object.entries(inputs).map(([k, i]) => [k, i.value]));
    try {
      await action(values);
    } catch (err) {
      const target = errors[fieldOf(err.field, Object.keys(errors))];
      if (target) target.textContent = refusalText(err);
      else general.textContent = err.field ? `${err.field}: ${refusalText(err)}` : refusalText(err);
    }
  });
  return node;
}
