import { api, apiIfServed } from './api.js';
import { actionButton, el, form, table } from './dom.js';

const day = (iso) => (iso ? iso.slice(0, 10) : '—');
const ocspText = (o) => {
  if (!o) return '—';
  const age = o.ageSeconds === null || o.ageSeconds === undefined ? '' : el('div', { class: 'note nowrap', text: `${Math.round(o.ageSeconds)} s old` });
  return el('div', {}, el('span', { class: o.good ? 'ok' : 'fail', text: o.good ? 'good' : 'not good' }), age);
};

/** GET /token-certificates is `{auth, signing}`, the certificates in use; GET /keys adds each one's hash and registration. */
function certificateRows(certs, keys) {
  return Object.entries(certs).map(([role, c]) => ({ role, ...c, ...(keys?.find((k) => k.state === 'in-use' && k.role === role)?.certificate ?? {}), ocsp: c.ocsp }));
}

function registration(c, reload, state) {
  if (c.registered === true) return el('span', { class: 'ok', text: 'registered' });
  if (c.registered !== false || !c.hash) return c.role === 'auth' ? '—' : 'signs messages';
  return actionButton('Register', { class: 'register', 'data-hash': c.hash }, async () => {
    await api('POST', `/token-certificates/${encodeURIComponent(c.hash)}/register`);
    // In set-up, the set-up page watches for central's configuration to list the certificate.
    if (state.setupMode) location.hash = '#setup';
    else await reload();
  });
}

function certificates(rows, reload, state) {
  return el(
    'div',
    { class: 'token-certificates' },
    table(
      ['Role', 'Subject', 'Issuer', 'Serial', 'Valid', 'OCSP', 'Registration'],
      rows.map((c) => [
        c.role,
        c.subject,
        c.issuer,
        el('code', { text: c.serial }),
        el('div', { class: 'nowrap' }, el('div', { text: `from ${day(c.notBefore)}` }), el('div', { text: `until ${day(c.notAfter)}` })),
        ocspText(c.ocsp),
        registration(c, reload, state),
      ]),
      'no token certificates',
    ),
  );
}

const pemBox = (label, text) => el('div', { class: 'token csr-box', role: 'status' }, el('strong', { text: label }), el('pre', { class: 'pem', text }));

/** A key's CSR: for a new key, or a renewal of one in use. */
const csrButton = (k, reload, state) =>
  actionButton('New CSR', { class: 'csr', 'data-key': k.id }, async () => {
    const r = await api('POST', `/keys/${encodeURIComponent(k.id)}/csrs`, {});
    state.notice = pemBox(`CSR of the ${r.role} key ${r.id}, subject ${r.subject}: send it to the CA, or let the RA issue the certificate`, r.csr);
    await reload();
  });

/** A key waiting for its certificate: the RA issues it for central's enrolment token. */
const requestForm = (k, reload, state) =>
  form(
    `Request a ${k.role} certificate for key ${k.id.slice(0, 12)}…`,
    [
      { name: 'enrolmentToken', label: 'Enrolment token (from central)', type: 'password' },
      { name: 'raUrl', label: 'RA URL', placeholder: 'https://pki.camdx.example' },
    ],
    'Send to the RA',
    async (v) => {
      const issued = await api('POST', `/keys/${encodeURIComponent(k.id)}/certificate-requests`, { enrolmentToken: v.enrolmentToken.trim(), raUrl: v.raUrl.trim() });
      // What the RA issued goes in at once, through the import's checks (key, role, member, CA, OCSP good).
      const imported = await api('POST', '/token-certificates', { certificate: issued.certificate });
      state.notice = el('p', {
        class: 'token',
        role: 'status',
        id: 'imported',
        text: `The RA issued the ${imported.role} certificate, serial ${imported.serial}, valid until ${day(imported.notAfter)}; imported, OCSP ${imported.ocsp.status}.`,
      });
      await reload();
    },
  );

const keyCertificate = (k) =>
  k.certificate
    ? el('div', {}, el('div', { text: k.certificate.subject }), el('div', { class: 'note', text: `serial ${k.certificate.serial}, until ${day(k.certificate.notAfter)}` }))
    : el('span', { class: 'pending', text: `none yet (${k.keyType ?? 'key'} made ${day(k.createdAt)})` });

/** A saved auth certificate waits beside the one in use until central's configuration lists it (X-Road: saved, registration in progress). */
const stateText = (k) =>
  k.state !== 'saved'
    ? k.state
    : el('span', {
        class: 'pending',
        title: "the certificate in use stays in use until central's configuration lists this one",
        text: k.certificate?.registered ? 'registered, switching' : 'saved: register it',
      });

function keyManagement(keys, reload, state) {
  const notice = state.notice ?? '';
  state.notice = undefined;
  return [
    notice,
    el('h3', { text: 'Keys' }),
    el(
      'div',
      { class: 'keys' },
      table(
        ['Key', 'Role', 'State', 'Certificate', ''],
        keys.map((k) => [
          el('code', { class: 'key-id', text: k.id }),
          k.role,
          stateText(k),
          keyCertificate(k),
          k.state === 'saved' ? registration({ role: k.role, ...k.certificate }, reload, state) : csrButton(k, reload, state),
        ]),
        'no keys yet',
      ),
    ),
    el(
      'div',
      { class: 'forms' },
      keys.filter((k) => k.state === 'pending').map((k) => requestForm(k, reload, state)),
      form('Generate a key', [{ name: 'role', label: 'Role', options: ['signing', 'auth'] }], 'Generate', async (v) => {
        await api('POST', '/keys', { role: v.role });
        await reload();
      }),
      form('Import a certificate', [{ name: 'certificate', label: 'Certificate chain (PEM)', multiline: true, placeholder: '-----BEGIN CERTIFICATE-----' }], 'Import', async (v) => {
        await api('POST', '/token-certificates', { certificate: v.certificate });
        await reload();
      }),
    ),
  ];
}

export const keys = {
  title: 'Keys and certificates',
  nav: 'Keys',
  async render(out, reload, state) {
    const [certs, keyList] = await Promise.all([api('GET', '/token-certificates'), apiIfServed('GET', '/keys')]);
    out.append(
      el('h3', { text: 'Token certificates' }),
      certificates(certificateRows(certs, keyList), reload, state),
      state.setupMode
        ? ''
        : el(
            'div',
            { class: 'buttons' },
            actionButton('Refresh OCSP', { class: 'ocsp-refresh' }, async () => {
              await api('POST', '/ocsp/refresh');
              await reload();
            }),
            actionButton('Reload keys', { class: 'keys-reload' }, async () => {
              await api('POST', '/keys/reload');
              await reload();
            }),
          ),
      ...(keyList === undefined
        ? [el('p', { class: 'note', id: 'keys-not-served', text: 'This gateway does not serve /api/v1/keys yet: keys, CSRs and certificate imports are camdx gateway key|csr|cert commands.' })]
        : keyManagement(keyList, reload, state)),
    );
  },
};
