import { api } from './api.js';
import { actionButton, el, form, table } from './dom.js';

const list = (xs) => (xs.length ? xs.join(', ') : '—');
const pem = (label, text) => el('details', {}, el('summary', { text: label }), el('pre', { text }));

/** Each signature's certificate as central read it; older centrals send no `signatures`, so nothing is shown. */
const FACTS = [
  ['subject', (s) => s.subject],
  ['issuer', (s) => s.issuer],
  ['serial', (s) => s.serial],
  ['valid', (s) => `${s.notBefore} – ${s.notAfter}`],
  ['key usage', (s) => list(s.keyUsage ?? [])],
];
const certificate = (s) =>
  el(
    'div',
    { class: 'cert' },
    el('strong', { text: `${s.role} signature` }),
    el(
      'dl',
      {},
      FACTS.flatMap(([label, value]) => [el('dt', { text: label }), el('dd', { text: value(s) })]),
    ),
  );

const requests = {
  title: 'Management requests',
  nav: 'Requests',
  async render(out, reload) {
    const rows = await api('GET', '/management-requests');
    const decision = (r) =>
      r.status !== 'pending'
        ? el(
            'div',
            {},
            el('strong', { class: `status-${r.status}`, text: r.status }),
            r.decidedBy ? ` by ${r.decidedBy}` : '',
            r.decidedAt ? ` at ${r.decidedAt}` : '',
            r.reason ? el('div', { class: 'reason', text: `reason: ${r.reason}` }) : '',
          )
        : el(
            'div',
            { class: 'decide' },
            actionButton('Approve', { class: 'approve', 'data-request': r.id }, async () => {
              await api('POST', `/management-requests/${r.id}/approve`);
              await reload();
            }),
            form(`Decline request ${r.id}`, [{ name: 'reason', label: 'Reason' }], 'Decline', async (v) => {
              await api('POST', `/management-requests/${r.id}/decline`, { reason: v.reason });
              await reload();
            }),
          );
    const subject = (r) => (r.type === 'registerAuthCert' ? el('code', { title: r.subject, text: `auth cert ${r.subject.slice(0, 16)}…` }) : r.subject);
    const headings = ['#', 'Type', 'Server', 'Subject', 'Received', 'Decision'];
    // Newest first; each request's certificates get a row of their own under it, side by side.
    const body = [...rows].reverse().flatMap((r) => [
      el(
        'tr',
        { class: 'request', 'data-request': r.id },
        [String(r.id), r.type, r.server, subject(r), r.createdAt, decision(r)].map((c) => el('td', {}, c)),
      ),
      ...((r.signatures ?? []).length
        ? [el('tr', { class: 'signatures', 'data-request': r.id }, el('td', { colspan: headings.length }, el('div', { class: 'certs' }, r.signatures.map(certificate))))]
        : []),
    ]);
    out.append(
      rows.length
        ? el(
            'table',
            { class: 'requests' },
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
          )
        : table(headings, [], 'no management requests yet'),
    );
  },
};

const trust = {
  title: 'Approved CAs and TSAs',
  nav: 'Trust',
  async render(out) {
    const [cas, tsas] = await Promise.all([api('GET', '/approved-cas'), api('GET', '/approved-tsas')]);
    out.append(
      el('h3', { text: 'Certification authorities' }),
      table(
        ['Name', 'OCSP responder', 'Certificates'],
        cas.map((c) => [c.name, c.ocspUrl ?? '—', el('div', {}, pem('CA certificate (PEM)', c.certificate), pem('root certificate (PEM)', c.rootCertificate))]),
      ),
      el('h3', { text: 'Timestamping authorities' }),
      table(
        ['Name', 'URL', 'Certificate'],
        tsas.map((t) => [t.name, t.url, pem('TSA certificate (PEM)', t.certificate)]),
      ),
    );
  },
};

/** `GET /audit` pages `{records, total, page, pageSize}`; an older central answers a bare array, shown as one page. */
const asPage = (r) => (Array.isArray(r) ? { records: r, total: r.length, page: 1, pageSize: Math.max(1, r.length) } : r);
const detailText = (d) =>
  d === null || d === undefined
    ? ''
    : typeof d !== 'object'
      ? String(d)
      : Object.entries(d)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');

const audit = {
  title: 'Audit log',
  nav: 'Audit',
  async render(out, reload, state) {
    const q = state.audit ?? (state.audit = { actor: '', action: '', from: '', to: '', pageSize: '50', page: 1 });
    const params = new URLSearchParams(
      Object.fromEntries(
        Object.entries(q)
          .filter(([, v]) => v !== '')
          .map(([k, v]) => [k, String(v)]),
      ),
    );
    const r = asPage(await api('GET', `/audit?${params}`));
    const pages = Math.max(1, Math.ceil(r.total / r.pageSize));
    const go = (p) => async () => {
      q.page = p;
      await reload();
    };
    out.append(
      form(
        'Filter',
        [
          { name: 'actor', label: 'Actor', value: q.actor },
          { name: 'action', label: 'Action', value: q.action },
          { name: 'from', label: 'From (ISO time)', value: q.from, placeholder: '2025-01-01T00:00:00Z' },
          { name: 'to', label: 'To (ISO time)', value: q.to },
          { name: 'pageSize', label: 'Per page', options: ['10', '50', '200'], value: q.pageSize },
        ],
        'Filter',
        async (v) => {
          Object.assign(q, v, { page: 1 });
          await reload();
        },
      ),
      table(
        ['When', 'Actor', 'Action', 'Target', 'Detail'],
        r.records.map((a) => [a.at, a.actor, a.action, a.target ?? '', el('code', { text: detailText(a.detail) })]),
        'no records match',
      ),
      el(
        'p',
        { class: 'pager' },
        actionButton('‹ newer', { class: 'newer', disabled: q.page <= 1 }, go(q.page - 1)),
        el('span', { class: 'page-of', text: ` page ${r.page} of ${pages} (${r.total} records) ` }),
        actionButton('older ›', { class: 'older', disabled: q.page >= pages }, go(q.page + 1)),
      ),
    );
  },
};

const users = {
  title: 'Users',
  adminOnly: true,
  async render(out, reload, _state, session) {
    const rows = await api('GET', '/users');
    const remove = (u) =>
      actionButton('Remove', { class: 'remove', 'data-user': u.name }, async () => {
        await api('DELETE', `/users/${encodeURIComponent(u.name)}`);
        await reload();
      });
    out.append(
      table(
        ['Name', 'Role', 'Created', ''],
        rows.map((u) => [u.name === session.name ? `${u.name} (you)` : u.name, u.role, u.createdAt, remove(u)]),
      ),
      el(
        'div',
        { class: 'forms' },
        form(
          'Add user',
          [
            { name: 'name', label: 'Name' },
            { name: 'role', label: 'Role', options: ['observer', 'administrator'] },
            { name: 'password', label: 'Password', type: 'password' },
          ],
          'Add user',
          async (v) => {
            await api('POST', '/users', v);
            await reload();
          },
        ),
        form(
          'Change password',
          [
            { name: 'name', label: 'User', options: rows.map((u) => u.name), value: session.name },
            { name: 'password', label: 'New password', type: 'password' },
          ],
          'Change password',
          async (v) => {
            await api('PUT', `/users/${encodeURIComponent(v.name)}/password`, { password: v.password });
            await reload();
          },
        ),
      ),
    );
  },
};

export const ADMIN_PAGES = { requests, trust, audit, users };
