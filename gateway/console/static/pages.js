import { api, fieldUnder, idPath } from './api.js';
import { actionButton, el, form, table } from './dom.js';
import { keys } from './pages-keys.js';
import { groups, rights } from './pages-rights.js';
import { clientActions, server } from './pages-server.js';
import { descriptions, services } from './pages-services.js';
import { setup } from './pages-setup.js';

const yesNo = (b) => el('span', { class: b ? 'ok' : 'fail', text: b ? 'yes' : 'no' });

const CONNECTIONS = ['HTTPS', 'HTTP', 'HTTPS_NO_AUTH'];

/** "no", and a button that sends registerClient again (the global configuration says when central has it). */
const registration = (c, reload) =>
  c.registered
    ? yesNo(true)
    : el(
        'div',
        { class: 'nowrap' },
        yesNo(false),
        ' ',
        actionButton('Register', { class: 'register', 'data-client': c.id }, async () => {
          await api('POST', `/clients/${idPath(c.id)}/register`);
          await reload();
        }),
      );

/** A new subsystem of the owner: into gateway.yaml, and registerClient to central. */
const addForm = (reload) =>
  form(
    'Add a client',
    [
      { name: 'id', label: 'Subsystem id', placeholder: 'CAMDX/COM/DEMOBANK/NEWSUB' },
      { name: 'connection', label: 'Connection type', options: CONNECTIONS, value: 'HTTPS' },
      { name: 'certificates', label: 'Pinned IS certificate (PEM, for HTTPS)', multiline: true, placeholder: '-----BEGIN CERTIFICATE-----' },
    ],
    'Add and register',
    async (v) => {
      const pem = v.certificates.trim();
      await api('POST', '/clients', { id: v.id.trim(), connection: v.connection, ...(pem ? { certificates: [pem] } : {}) });
      await reload();
    },
  );

const clients = {
  title: 'Clients',
  async render(out, reload, state) {
    const rows = await api('GET', '/clients');
    const notice = state.clientsNotice ?? '';
    state.clientsNotice = undefined;
    const connection = (c) =>
      form(`Connection of ${c.id}`, [{ name: 'connection', label: 'Connection type', options: ['HTTP', 'HTTPS', 'HTTPS_NO_AUTH'], value: c.connection }], 'Save', async (v) => {
        await api('PATCH', `/clients/${idPath(c.id)}`, { connection: v.connection }).catch((err) => {
          throw fieldUnder(err, `clients.${c.id}.`);
        });
        await reload();
      });
    // One line in its cell: the column heading names the field.
    const inline = (f) => {
      f.classList.add('inline');
      return f;
    };
    // Whether a client is disabled, when GET /clients says so (the global configuration's disabledClients).
    const knowsState = rows.some((c) => c.disabled !== undefined);
    const stateOf = (c) => (c.disabled === undefined ? '—' : el('span', { class: c.disabled ? 'fail' : 'ok', text: c.disabled ? 'disabled' : 'enabled' }));
    out.append(
      notice,
      el('p', {
        class: 'note',
        text:
          "The owner's subsystems: how their information systems reach this gateway (HTTP, HTTPS with a pinned client certificate, or HTTPS without one), and " +
          'whether the global configuration lists them on this server. A disabled client stays registered but neither calls nor is called.',
      }),
      el(
        'div',
        { class: 'clients' },
        table(
          ['Client', 'Registered here', 'Connection type', 'Pinned IS certificates', ...(knowsState ? ['State'] : []), ''],
          rows.map((c) => [
            el('code', { text: c.id }),
            registration(c, reload),
            inline(connection(c)),
            String(c.certificates),
            ...(knowsState ? [stateOf(c)] : []),
            c.registered ? clientActions(c, reload, state) : '',
          ]),
          'no clients yet',
        ),
      ),
      el('div', { class: 'forms' }, addForm(reload)),
      el('p', {
        class: 'note',
        text:
          "Only the owner's subsystems: another member's needs that member's signature on registerClient, and this gateway holds only its owner's key. Central " +
          'adds a new subsystem to its registry when it approves the request; "Registered here" says yes once the global configuration carries it.',
      }),
    );
  },
};

const checkResult = (c) => el('span', { class: c.ok ? 'ok' : 'fail', text: c.ok ? 'ok' : 'FAIL' });

const diagnostics = {
  title: 'Diagnostics',
  async render(out, reload) {
    const { ok, checks } = await api('GET', '/diagnostics');
    const failing = checks.filter((c) => !c.ok).length;
    out.append(
      el(
        'p',
        { class: 'summary' },
        el('strong', { class: ok ? 'ok' : 'fail', text: ok ? `All ${checks.length} checks passed.` : `${failing} of ${checks.length} checks failed.` }),
        ' ',
        actionButton('Run again', { class: 'run-again' }, reload),
      ),
      table(
        ['Check', 'Result', 'Target', 'Detail', 'Latency'],
        checks.map((c) => [c.name, checkResult(c), el('code', { text: c.target }), c.detail, c.latencyMs === undefined ? '—' : `${c.latencyMs} ms`]),
        'no checks ran',
      ),
      el('p', { class: 'note', text: 'The connection tests of X-Road (central, global configuration, registration, OCSP, TSA, peer gateways, own services), as camdx gateway doctor runs them.' }),
    );
  },
};

const SHOWN_RECORDS = 50;
const time = (ms) =>
  ms
    ? new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    : '—';
const outcome = (r) =>
  el('span', { class: r.succeeded ? 'ok' : 'fail', text: r.succeeded ? String(r.status ?? 'ok') : `${r.status ?? ''} ${r.faultCode ?? 'failed'}`.trim(), title: r.faultString ?? '' });

const records = {
  title: 'Operational records',
  nav: 'Records',
  async render(out, reload) {
    const all = await api('GET', '/records?limit=10000');
    const last = all.slice(-SHOWN_RECORDS).reverse();
    out.append(
      el(
        'p',
        { class: 'summary' },
        `The last ${last.length} of ${all.length} ${all.length === 1 ? 'exchange' : 'exchanges'} through this gateway, newest first. `,
        actionButton('Reload', { class: 'reload' }, reload),
      ),
      table(
        ['Time', 'Side', 'Client', 'Service', 'Endpoint', 'Status', 'Peer server'],
        last.map((r) => [time(r.requestInTs), r.side, el('code', { text: r.client }), el('code', { text: r.service }), el('code', { text: r.endpoint }), outcome(r), r.peerServer ?? '—']),
        'no exchanges yet',
      ),
    );
  },
};

export const PAGES = { clients, services, keys, descriptions, rights, groups, server, diagnostics, records };
/** A bare gateway's pages (camdx gateway run --new): its set-up, and the keys it needs. */
export const SETUP_PAGES = { setup, keys };
