import { api, apiIfServed, fieldUnder, idPath } from './api.js';
import { actionButton, el, form, table } from './dom.js';

const endpointList = (eps) =>
  eps.length
    ? el(
        'ul',
        { class: 'plain' },
        eps.map((e) => el('li', {}, el('code', { text: `${e.method} ${e.path}` }))),
      )
    : '—';
const TLS = { default: 'verify (system CAs)', on: 'verify', off: 'do not verify' };
const tlsText = (s) => (s.url.startsWith('http:') ? 'none (http)' : !s.tls ? '—' : s.tls.caFile ? `verify against ${s.tls.caFile}` : s.tls.verify === false ? TLS.off : TLS.default);
const tlsChoice = (t) => (t?.caFile ? 'ca' : t?.verify === false ? 'off' : 'default');

/**
 * A service's row as shown: GET /services, with the settings a PATCH answered last (the answer
 * holds the timeout and TLS verification in use, which the list may not carry).
 */
const settingsOf = (s, saved) => ({ ...s, ...(saved[s.id] ?? {}) });
const timeoutText = (s) => (s.timeoutMs ? `${s.timeoutMs} ms` : s.effectiveTimeoutMs ? `default (${s.effectiveTimeoutMs} ms)` : 'default');

/** Only what the form changed goes into the PATCH: an untouched field is never rewritten. */
function patchOf(s, v) {
  const body = {};
  if (v.url !== s.url) body.url = v.url;
  const timeout = v.timeoutMs.trim() === '' ? null : Number(v.timeoutMs);
  if (timeout !== (s.timeoutMs ?? null)) body.timeoutMs = timeout;
  if (v.tls !== tlsChoice(s.tls) && v.tls !== 'ca') body.tls = v.tls === 'default' ? null : { verify: v.tls === 'on' };
  return body;
}

function settingsForm(s, saved, reload) {
  const tlsOptions = s.tls?.caFile ? ['default', 'off', 'ca'] : ['default', 'off'];
  const f = form(
    `Settings of ${s.id}`,
    [
      { name: 'url', label: 'Base URL', value: s.url },
      { name: 'timeoutMs', label: 'Timeout (ms, empty: default)', type: 'number', value: s.timeoutMs ?? '', placeholder: s.effectiveTimeoutMs ? String(s.effectiveTimeoutMs) : 'default' },
      { name: 'tls', label: 'TLS verification (https only)', options: tlsOptions, value: tlsChoice(s.tls) },
    ],
    'Save',
    async (v) => {
      const body = patchOf(s, v);
      if (!Object.keys(body).length) throw new Error('nothing changed');
      try {
        saved[s.id] = await api('PATCH', `/services/${idPath(s.id)}`, body);
      } catch (err) {
        throw fieldUnder(err, `services.${s.id}.`);
      }
      await reload();
    },
  );
  // The options' values are short keys; a person reads what each means.
  for (const o of f.querySelectorAll('select[name="tls"] option')) o.textContent = o.value === 'ca' ? `CA file ${s.tls.caFile}` : TLS[o.value];
  return f;
}

export const services = {
  title: 'Services',
  async render(out, reload, state) {
    const saved = state.savedServices ?? (state.savedServices = {});
    const rows = (await api('GET', '/services')).map((s) => settingsOf(s, saved));
    out.append(
      el('p', {
        class: 'note',
        text:
          "The services this gateway provides: the provider system's base URL, how long an exchange may wait for it, and whether its TLS certificate is " +
          'verified. The endpoints are those the global configuration publishes.',
      }),
      table(
        ['Service', 'Base URL', 'Timeout', 'TLS verification', 'Published endpoints'],
        rows.map((s) => [
          el('code', { text: s.id }),
          el('code', { class: 'url', text: s.url }),
          timeoutText(s),
          tlsText(s),
          s.published ? endpointList(s.endpoints) : el('span', { class: 'note', text: 'not in the global configuration' }),
        ]),
        'no services yet',
      ),
      el(
        'div',
        { class: 'forms' },
        rows.map((s) => settingsForm(s, saved, reload)),
      ),
    );
  },
};

const diffList = (label, eps, cls) => el('div', { class: `diff ${cls}` }, el('strong', { text: `${label} (${eps.length})` }), endpointList(eps));
const STATUS_CLASS = { published: 'ok', 'in progress': 'pending', 'not published': 'fail' };

/** The endpoint diff a refresh would make, shown before it is applied; Apply sends the same document again. */
function diffBox(pending, reload, state) {
  const { id, source, diff } = pending;
  const blocking = diff.rightsOnRemoved ?? [];
  return el(
    'div',
    { class: 'token diff-box', 'data-service': id, role: 'status' },
    el('strong', { text: `Refreshing ${id} from ${source.url ?? 'the uploaded document'} would change its endpoints:` }),
    el('div', { class: 'diffs' }, diffList('added', diff.added, 'added'), diffList('removed', diff.removed, 'removed'), diffList('kept', diff.kept, 'kept')),
    blocking.length
      ? el('p', { class: 'error', text: `Refused while these access rights name a removed endpoint: ${blocking.map((b) => `${b.right.subject} ${b.right.method} ${b.right.path}`).join('; ')}` })
      : '',
    el(
      'div',
      { class: 'buttons' },
      actionButton('Apply', { class: 'apply', disabled: blocking.length > 0 }, async () => {
        await api('POST', `/service-descriptions/${idPath(id)}/refresh`, { ...source, apply: true });
        state.refresh = undefined;
        await reload();
      }),
      actionButton('Cancel', { class: 'cancel' }, async () => {
        state.refresh = undefined;
        await reload();
      }),
    ),
  );
}

/** The document from a URL (fetched once by the gateway) or a chosen file (read here, sent in the body). */
async function sourceOf(v, fileInput) {
  if (v.url.trim()) return { url: v.url.trim() };
  const file = fileInput.files?.[0];
  if (!file) throw Object.assign(new Error('give the document URL, or choose the file'), { field: 'document' });
  return { document: await file.text() };
}

const SOURCE_FIELDS = [
  { name: 'url', label: 'Document URL', placeholder: 'https://api.acme.example/openapi.json' },
  { name: 'document', label: 'or upload it (JSON or YAML)', type: 'file' },
];

export const descriptions = {
  title: 'Service descriptions',
  nav: 'Descriptions',
  async render(out, reload, state) {
    const rows = await apiIfServed('GET', '/service-descriptions');
    if (rows === undefined) {
      out.append(el('p', { class: 'note', id: 'not-served', text: 'This gateway does not serve /api/v1/service-descriptions yet.' }));
      return;
    }
    const remove = (d) =>
      actionButton('Delete', { class: 'remove', 'data-service': d.serviceId }, async () => {
        await api('DELETE', `/service-descriptions/${idPath(d.serviceId)}`);
        await reload();
      });
    const add = form(
      'Add a service from its OpenAPI document',
      [
        { name: 'serviceId', label: 'Service id', placeholder: 'CAMDX/COM/ACME/APP/orders' },
        { name: 'baseUrl', label: 'Base URL of the provider system', placeholder: 'https://orders.acme.internal' },
        ...SOURCE_FIELDS,
      ],
      'Add',
      async (v) => {
        await api('POST', '/service-descriptions', { serviceId: v.serviceId.trim(), baseUrl: v.baseUrl.trim(), ...(await sourceOf(v, add.querySelector('input[name="document"]'))) });
        await reload();
      },
    );
    const refresh = form('Refresh a service', [{ name: 'serviceId', label: 'Service', options: rows.map((d) => d.serviceId) }, ...SOURCE_FIELDS], 'Show the changes', async (v) => {
      const source = await sourceOf(v, refresh.querySelector('input[name="document"]'));
      state.refresh = { id: v.serviceId, source, diff: await api('POST', `/service-descriptions/${idPath(v.serviceId)}/refresh`, { ...source, apply: false }) };
      await reload();
    });
    out.append(
      state.refresh ? diffBox(state.refresh, reload, state) : '',
      el(
        'p',
        { class: 'summary' },
        actionButton('Reload', { class: 'reload' }, reload),
        'A change goes to central as a signed serviceAdd, serviceUpdate or serviceRemove request; the service is "in progress" until the global configuration carries it.',
      ),
      el(
        'div',
        { class: 'descriptions' },
        table(
          ['Service', 'Base URL', 'Status', 'Endpoints', ''],
          rows.map((d) => [
            el('code', { text: d.serviceId }),
            d.url ? el('code', { class: 'url', text: d.url }) : '—',
            el('span', { class: STATUS_CLASS[d.status] ?? '', text: d.status }),
            endpointList(d.endpoints ?? []),
            remove(d),
          ]),
          'no services yet',
        ),
      ),
      el('div', { class: 'forms' }, refresh, add),
    );
  },
};
